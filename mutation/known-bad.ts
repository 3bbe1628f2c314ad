import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Schedule } from '../engine/index.ts';
import type { Program } from '../engine/program/ops.ts';
import type { Failure, ShrinkStats } from '../runner/index.ts';
import { PROJECT_ROOT } from '../project/root.ts';

export const KNOWN_BAD_DIR = join(PROJECT_ROOT, 'corpus', 'known-bad');
export const PATCHES_DIR = join(PROJECT_ROOT, 'mutation', 'patches');

/** corpus/known-bad/<patch>.json: the repro that proves a known-bad patch is caught. */
export interface KnownBadEntry {
  readonly schema: 1;
  /** The patch's file name in mutation/patches/. */
  readonly patch: string;
  /** The seed thread the patch comes from (its header's Seed:). */
  readonly thread: string;
  /** hashTree() of the patched engine/ the repro was found on (as corpus/ entries). */
  readonly engine: string;
  readonly property: string;
  readonly message: string;
  readonly signature: string;
  /** The campaign seed and the run that found it. */
  readonly seed: number;
  readonly run: number;
  readonly program: Program;
  readonly schedule: Schedule;
  readonly shrink: ShrinkStats;
  /** The properties the campaign checked (all of the patched model's). */
  readonly checks?: readonly string[];
}

export function knownBadEntry(patch: string, thread: string, engine: string, f: Failure, checks: readonly string[]): KnownBadEntry {
  return {
    schema: 1,
    patch,
    thread,
    engine,
    property: f.property,
    message: f.message,
    signature: f.signature,
    seed: f.seed,
    run: f.run,
    program: f.repro.program,
    schedule: f.repro.schedule,
    // Whole milliseconds: a rerun rewrites the same bytes more often.
    shrink: { ...f.shrink, ms: Math.round(f.shrink.ms) },
    checks: [...checks],
  };
}

export function entryFileName(patch: string): string {
  return `${patch.replace(/\.patch$/, '')}.json`;
}

/** The repro itself, without what differs from one check to the next (timings, the run that found it). */
const SAME = ['engine', 'property', 'message', 'program', 'schedule', 'checks'] as const;

function unchanged(file: string, e: KnownBadEntry): boolean {
  if (!existsSync(file)) return false;
  try {
    const had = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const norm = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    return SAME.every((k) => JSON.stringify(had[k]) === JSON.stringify(norm[k]));
  } catch {
    return false;
  }
}

/**
 * Write the entry (temp + rename, so a reader or a crash never sees half a
 * file) unless the file already holds the same repro: a check that found what
 * it found last time leaves the tracked file alone. `update` writes anyway.
 */
export function saveKnownBad(dir: string, e: KnownBadEntry, update = false): { file: string; written: boolean } {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, entryFileName(e.patch));
  if (!update && unchanged(file, e)) return { file, written: false };
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(e, null, 2)}\n`);
  renameSync(tmp, file);
  return { file, written: true };
}

/** Every entry of a known-bad corpus directory, sorted by file name. */
export function loadKnownBad(dir = KNOWN_BAD_DIR): { file: string; entry: KnownBadEntry }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => ({ file: n, entry: JSON.parse(readFileSync(join(dir, n), 'utf8')) as KnownBadEntry }));
}
