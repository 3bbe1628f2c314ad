// Run a program with every property checked; the shared test harness.
import { Pct, RandomWalk, type Strategy } from '../../engine/index.ts';
import { valueOf } from '../../engine/program/history.ts';
import { runProgram, type RunResult } from '../../engine/program/executor.ts';
import type { Op, Program } from '../../engine/program/ops.ts';
import { hooksFor, properties } from '../../properties/index.ts';

export function runChecked(program: Program, strategy: Strategy = new RandomWalk(1), trace = false): RunResult {
  return runProgram(program, { strategy, hooks: hooksFor(properties), trace });
}

export function pct(seed: number, program: Program): Pct {
  return new Pct({ seed, depth: 3, maxSteps: 400 });
}

/** A one-process, one-thread program. */
export function single(...ops: Op[]): Program {
  return { processes: [{ threads: [ops] }] };
}

/** The values of the successful reads of one thread, in order. */
export function reads(r: RunResult, thread: string): (number | string)[] {
  return r.history.records
    .filter((x) => x.thread === thread && x.op.op === 'read')
    .map((x) => (x.result < 0 ? `err${x.result}` : valueOf(x)!));
}

export function describeViolation(r: RunResult): string {
  if (!r.violation) return 'no violation';
  return `${r.violation.property}: ${r.violation.message}`;
}
