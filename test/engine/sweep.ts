// fuzz()'s loop without the shrink: in mutation testing only "does a fixed
// campaign see a violation" matters, and a mutant should die in milliseconds.
import { makeStrategy, type ProgramArbOptions } from '../../generators/index.ts';
import { properties } from '../../properties/index.ts';
import { caseArb, generateCase, runCase, selectedViolation } from '../../runner/index.ts';
import type { Program } from '../../engine/program/ops.ts';
import { formatProgram } from '../../engine/program/format.ts';

export interface SweepResult {
  readonly runs: number;
  readonly steps: number;
  /** The first violation, as text with its program, or undefined. */
  readonly failure?: string;
}

/** Runs 0..runs-1 of campaign `seed` (the same cases fuzz() draws), all properties. */
export function sweep(seed: number, runs: number, program: ProgramArbOptions = {}): SweepResult {
  const arb = caseArb(program);
  const co = { properties };
  let steps = 0;
  for (let i = 0; i < runs; i++) {
    const input = generateCase(arb, seed, i);
    const r = runCase(input.program, makeStrategy(input.schedule), co);
    steps += r.steps;
    const v = selectedViolation(r, co);
    if (v) return { runs: i + 1, steps, failure: `run ${i}: ${v.property}: ${v.message}\n${show(input.program)}` };
  }
  return { runs, steps };
}

function show(p: Program): string {
  return formatProgram(p);
}


