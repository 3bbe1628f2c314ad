import fc from 'fast-check';
import type { Program } from '../engine/program/ops.ts';
import { programArb, scheduleArb, type ProgramArbOptions, type ScheduleArbOptions, type ScheduleSpec } from '../generators/index.ts';

/** The seed of run i of a campaign: each run can be regenerated on its own. */
export function runSeed(seed: number, i: number): number {
  let x = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export interface CaseInput {
  readonly program: Program;
  readonly schedule: ScheduleSpec;
}

/** Generate run i's program and schedule with fast-check, from its own seed. */
export function caseArb(program: ProgramArbOptions = {}, schedule: ScheduleArbOptions = {}): fc.Arbitrary<CaseInput> {
  return fc.record({ program: programArb(program), schedule: scheduleArb(schedule) });
}

export function generateCase(arb: fc.Arbitrary<CaseInput>, seed: number, i: number): CaseInput {
  return fc.sample(arb, { seed: runSeed(seed, i) | 0, numRuns: 1 })[0]!;
}
