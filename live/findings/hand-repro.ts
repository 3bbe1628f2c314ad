/**
 * Hand-written reproducers: a finding whose entry `kernel repro` cannot plan
 * (its race needs a process to map anew in every loop while another forks off
 * with what was mapped, or its symptom is a hang) has its own C file under
 * live/findings/<entry name>/, built with the machine's cc by buildC. It runs
 * for a time limit (it bounds itself; a SIGTERM makes it clean up), prints
 * `hits H iterations I[: symptom]`, sets nr_hugepages and restores it, and says
 * `skip: why` when it cannot run here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildC } from '../build.ts';
import { ExecutorError, KernelUnavailableError } from '../errors.ts';

const FINDINGS = dirname(fileURLToPath(import.meta.url));

export interface HandReproResult {
  readonly cFile: string;
  readonly hits: number;
  readonly iterations: number;
  readonly symptom?: string;
  /** The reproducer's own figures (`name value` pairs of its first line). */
  readonly detail: Readonly<Record<string, number>>;
}

/** The directory of an entry's hand-written reproducer (by the entry file's name), if it has one. */
export function handReproDir(entryFile: string): string | undefined {
  const dir = join(FINDINGS, basename(entryFile, '.json'));
  return existsSync(join(dir, 'repro.c')) ? dir : undefined;
}

export function runHandRepro(entryFile: string, seconds: number, mode?: '--until-hit' | '--control'): HandReproResult {
  const dir = handReproDir(entryFile);
  if (!dir) throw new ExecutorError(`${entryFile} has no hand-written reproducer under live/findings/`);
  const name = basename(dir);
  const bin = buildC(join('findings', name), name);
  const r = spawnSync(bin, [String(seconds), ...(mode ? [mode] : [])], { encoding: 'utf8', timeout: (seconds + 30) * 1000, killSignal: 'SIGTERM' });
  const skip = /^skip: (.*)$/m.exec(r.stdout);
  if (skip) throw new KernelUnavailableError(skip[1]!);
  const m = /^hits (\d+) iterations (\d+)(?:: (.*))?$/m.exec(r.stdout);
  if (!m) throw new ExecutorError(`the reproducer printed no verdict (${r.stderr.trim() || `exit ${r.status}`})`);
  const detail: Record<string, number> = {};
  const words = (r.stdout.split('\n')[0] ?? '').split(' ');
  for (let i = 0; i + 1 < words.length; i += 2) if (!words[i]!.startsWith('hits')) detail[words[i]!] = Number(words[i + 1]);
  return { cFile: join(dir, 'repro.c'), hits: Number(m[1]), iterations: Number(m[2]), symptom: m[3], detail };
}
