// fuzz()'s loop without the shrink: in mutation testing only "does a fixed
// campaign see a violation" matters, and a mutant should die in milliseconds.
// It also counts what the ops did, so that a spec can show the campaign ran
// the model (a model whose syscalls all fail finds nothing either).
import { makeStrategy, type ProgramArbOptions } from '../../generators/index.ts';
import { properties } from '../../properties/index.ts';
import { caseArb, generateCase, runCase, selectedViolation } from '../../runner/index.ts';
import type { OpKind } from '../../engine/program/ops.ts';
import type { OpRecord } from '../../engine/program/history.ts';
import { formatProgram } from '../../engine/program/format.ts';

export interface OpCounts {
  /** Per op kind: how many ran and succeeded (result >= 0). */
  readonly ok: Partial<Record<OpKind, number>>;
  readonly failed: Partial<Record<OpKind, number>>;
  /** Reads (and pin reads) that returned a value some write of the same run stored. */
  readonly readsOfWrites: number;
}

export interface SweepResult {
  readonly runs: number;
  readonly steps: number;
  readonly counts: OpCounts;
  /** The first violation, as text with its program, or undefined. */
  readonly failure?: string;
}

/** Runs 0..runs-1 of campaign `seed` (the same cases fuzz() draws), all properties. */
export function sweep(seed: number, runs: number, program: ProgramArbOptions = {}): SweepResult {
  const arb = caseArb(program);
  const co = { properties };
  const counts = { ok: {}, failed: {}, readsOfWrites: 0 };
  let steps = 0;
  for (let i = 0; i < runs; i++) {
    const input = generateCase(arb, seed, i);
    const r = runCase(input.program, makeStrategy(input.schedule), co);
    steps += r.steps;
    count(counts, r.history.records);
    const v = selectedViolation(r, co);
    if (v) return { runs: i + 1, steps, counts, failure: `run ${i}: ${v.property}: ${v.message}\n${formatProgram(input.program)}` };
  }
  return { runs, steps, counts };
}

function count(c: { ok: Partial<Record<OpKind, number>>; failed: Partial<Record<OpKind, number>>; readsOfWrites: number }, records: readonly OpRecord[]): void {
  // Writes are numbered 1, 2, ... per program: a read of one of them saw data flow.
  const written = new Set(records.flatMap((r) => ((r.kind === 'write' || r.kind === 'pinWrite') && r.result >= 0 ? [r.value] : [])));
  for (const r of records) {
    const into = r.result >= 0 ? c.ok : c.failed;
    into[r.kind] = (into[r.kind] ?? 0) + 1;
    if ((r.kind === 'read' || r.kind === 'pinRead') && r.result >= 0 && r.value !== undefined && r.value !== 0 && written.has(r.value)) c.readsOfWrites++;
  }
}
