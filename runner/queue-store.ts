/**
 * The guided campaign's queue on disk (fuzz --corpus DIR): DIR/queue/, one
 * JSON file per input named by its content's hash, so campaigns that save
 * into one directory share inputs without duplicates, libFuzzer-style.
 * Loaded in file-name order (deterministic); a file that does not parse is
 * an error naming it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseInput } from './seeds.ts';

export class QueueFileError extends Error {
  constructor(file: string, why: string) {
    super(`queue file ${file} ${why}; delete it or restore it from a backup`);
    this.name = 'QueueFileError';
  }
}

export const QUEUE_DIR = 'queue';

export function queueDir(corpus: string): string {
  return join(corpus, QUEUE_DIR);
}

function isInput(x: unknown): x is CaseInput {
  const o = x as CaseInput | null;
  return typeof o === 'object' && o !== null && typeof o.program === 'object' && Array.isArray(o.program?.processes) && typeof o.schedule === 'object' && typeof o.schedule?.kind === 'string';
}

export function loadQueue(corpus: string): CaseInput[] {
  const dir = queueDir(corpus);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => {
      const file = join(dir, n);
      let x: unknown;
      try {
        x = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new QueueFileError(file, `is not JSON (${(e as Error).message})`);
      }
      if (!isInput(x)) throw new QueueFileError(file, 'is not a program and schedule');
      return x;
    });
}

/** Save inputs not yet in the directory; returns how many were new. */
export function saveQueue(corpus: string, inputs: readonly CaseInput[]): number {
  const dir = queueDir(corpus);
  mkdirSync(dir, { recursive: true });
  let added = 0;
  for (const input of inputs) {
    const text = `${JSON.stringify(input)}\n`;
    const file = join(dir, `${createHash('sha1').update(text).digest('hex').slice(0, 16)}.json`);
    if (existsSync(file)) continue;
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
    added++;
  }
  return added;
}
