/**
 * `kernel repro`: plan, emit, build and run a C reproducer for a corpus
 * entry, for a bounded time, and read its verdict. The reproducer cleans up
 * after itself (nr_hugepages restored, children reaped) also on SIGTERM,
 * which the time limit sends if it overruns.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProgram } from '../../engine/program/format.ts';
import type { CorpusEntry } from '../../corpus/entry.ts';
import { kernelUnavailable } from '../build.ts';
import { ExecutorError, KernelUnavailableError } from '../errors.ts';
import { handReproDir, runHandRepro } from '../findings/hand-repro.ts';
import { emitC } from './emit-c.ts';
import { planRepro } from './plan.ts';

export interface ReproResult {
  readonly cFile: string;
  readonly seconds: number;
  readonly hits: number;
  readonly iterations: number;
  readonly symptom?: string;
  readonly kernel: string;
  readonly leftOut: readonly string[];
}

const BUILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'build');

/** The reproducer's C text for an entry. */
export function reproSource(entry: CorpusEntry, source: string): { text: string; leftOut: readonly string[] } {
  const plan = planRepro(entry.program);
  return { text: emitC(plan, { source, property: entry.property, message: entry.message, program: formatProgram(entry.program) }), leftOut: plan.leftOut };
}

/**
 * Run for `seconds`, or (untilHit) until the first hit within them. An entry
 * with a hand-written reproducer (live/findings/<entry name>/) runs that one.
 */
export function runRepro(entry: CorpusEntry, source: string, seconds: number, out?: string, untilHit = false): ReproResult {
  const why = kernelUnavailable();
  if (why) throw new KernelUnavailableError(why);
  if (handReproDir(source)) {
    const h = runHandRepro(source, seconds, untilHit ? '--until-hit' : undefined);
    if (out) writeFileSync(out, readFileSync(h.cFile));
    return { cFile: out ?? h.cFile, seconds, hits: h.hits, iterations: h.iterations, symptom: h.symptom, kernel: uname(), leftOut: [] };
  }
  const { text, leftOut } = reproSource(entry, source);
  const cFile = out ?? join(BUILD, `${basename(source, '.json')}.c`);
  mkdirSync(dirname(cFile), { recursive: true });
  writeFileSync(cFile, text);
  const bin = cFile.replace(/\.c$/, '');
  execFileSync('cc', ['-O2', '-pthread', '-o', bin, cFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const r = spawnSync(bin, [String(seconds), ...(untilHit ? ['--until-hit'] : [])], { encoding: 'utf8', timeout: (seconds + 30) * 1000, killSignal: 'SIGTERM' });
  const m = /hits (\d+) iterations (\d+)(?:: (.*))?/.exec(r.stdout);
  if (!m) throw new ExecutorError(`the reproducer printed no verdict (${r.stderr.trim() || `exit ${r.status}`})`);
  return { cFile, seconds, hits: Number(m[1]), iterations: Number(m[2]), symptom: m[3], kernel: uname(), leftOut };
}

function uname(): string {
  return execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
}
