import assert from 'node:assert/strict';
import { Pct, RandomWalk } from '../../engine/index.ts';
import type { OpRecord } from '../../engine/program/history.ts';
import type { RunResult } from '../../engine/program/executor.ts';
import type { Program } from '../../engine/program/ops.ts';
import { describeViolation, runChecked } from './run.ts';

/** The record of `thread`'s op number `index`. */
export function rec(r: RunResult, thread: string, index: number): OpRecord {
  const x = r.history.records.find((q) => q.thread === thread && q.index === index);
  assert.ok(x, `${thread} op ${index} did not run`);
  return x;
}

/** a finished before b began. */
export function before(a: OpRecord, b: OpRecord): boolean {
  return a.end <= b.start;
}

/**
 * Run the program under random interleavings until one has the order the
 * scenario needs. Every interleaving tried must be free of violations; the
 * first that matches is returned for the scenario's own assertions.
 */
export function interleaving(program: Program, wanted: (r: RunResult) => boolean, tries = 400): RunResult {
  for (let seed = 0; seed < tries; seed++) {
    // Alternate uniform random walks with PCT, which runs one task long.
    const strategy = seed % 2 ? new Pct({ seed, depth: 3, maxSteps: 300 }) : new RandomWalk(seed);
    const r = runChecked(program, strategy);
    assert.equal(r.violation, undefined, `seed ${seed}: ${describeViolation(r)}`);
    if (wanted(r)) return r;
  }
  assert.fail(`no interleaving in ${tries} tries had the order the scenario needs`);
}
