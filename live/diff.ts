/**
 * `kernel diff`: generate programs of the expressible op kinds, run each
 * sequentially on the model (one op at a time, a seeded global order) and in
 * the same order on the kernel, and compare every observation. Differences
 * that a named abstraction explains are counted under its name; every other
 * one is shrunk and reported with both sides.
 */
import fc from 'fast-check';
import { OP_KINDS, type Program } from '../engine/program/ops.ts';
import { programArb } from '../generators/index.ts';
import { explain } from './abstractions.ts';
import { compareRecords, type Difference } from './compare.ts';
import { expressedKinds } from './expressible.ts';
import { runOnKernel } from './kernel-run.ts';
import { runSequential } from './sequential.ts';
import { shrinkDifference, signatureOf } from './shrink.ts';
import type { ThpMode } from './encode.ts';
import { thpProgramArb } from './thp-programs.ts';

export interface DiffOptions {
  readonly runs: number;
  readonly seed: number;
  /** THP mode (live/thp-programs.ts): the kernel's THP knob for every run, and page states compared after each op. */
  readonly thp?: ThpMode;
  readonly onProgress?: (done: number) => void;
  /** Stop early (Ctrl-C): the runs so far are reported. */
  readonly stopped?: () => boolean;
}

export interface Reported {
  readonly signature: string;
  readonly seed: number;
  readonly program: Program;
  /** The shrunk program's first unexplained difference. */
  readonly difference: Difference;
  readonly shrinkTries: number;
  /** Programs that showed this signature. */
  readonly count: number;
}

export interface DiffResult {
  readonly runs: number;
  readonly compared: number;
  /** Runs whose model run was not one op at a time (an op blocked and another began). */
  readonly notSequential: number;
  readonly ops: number;
  readonly abstractions: Record<string, number>;
  readonly differences: Reported[];
  /** THP mode: op boundaries whose page states were compared, and how many model pages were in each state there. */
  readonly observed?: { readonly boundaries: number; readonly pages: Record<string, number> };
}

/** The model's page states at the boundaries compared (up to a run's first page-state difference). */
function countStates(states: readonly (string | undefined)[], upTo: number, into: { boundaries: number; pages: Record<string, number> }): void {
  states.forEach((s, seq) => {
    if (s === undefined || seq >= upTo) return;
    into.boundaries++;
    for (const c of s) if (c !== '.') into.pages[c] = (into.pages[c] ?? 0) + 1;
  });
}

/** The first difference no abstraction explains, if any, of program p run with order seed `seed`. */
export function firstUnexplained(p: Program, seed: number, thp?: ThpMode): Difference | undefined | 'not-sequential' {
  const s = runSequential(p, seed, thp !== undefined);
  if (!s.sequential) return 'not-sequential';
  const diffs = compareRecords(s.records, runOnKernel(p, s.order, thp), s.states);
  const why = explain(diffs);
  return diffs.find((_, i) => !why[i]);
}

export function kernelDiff(o: DiffOptions): DiffResult {
  const arb = o.thp ? thpProgramArb(o.thp) : programArb({ ops: expressedKinds(OP_KINDS), pinFlags: { write: true, longterm: true } });
  const observed = { boundaries: 0, pages: {} as Record<string, number> };
  // The kernel maps the shared zero page on read faults, and a R/O reference (get) sees it: so does the model's machine.
  const programs = fc.sample(arb, { seed: o.seed, numRuns: o.runs }).map((p): Program => ({ ...p, zeroPage: true }));
  const abstractions: Record<string, number> = {};
  const bySig = new Map<string, Reported>();
  let compared = 0;
  let notSequential = 0;
  let ops = 0;
  let runs = 0;
  for (const [i, p] of programs.entries()) {
    if (o.stopped?.()) break;
    runs++;
    const s = runSequential(p, i, o.thp !== undefined);
    if (!s.sequential) {
      notSequential++;
      continue;
    }
    compared++;
    ops += s.records.length;
    const diffs = compareRecords(s.records, runOnKernel(p, s.order, o.thp), s.states);
    if (s.states) countStates(s.states, diffs.find((d) => d.model.state !== undefined)?.seq ?? Infinity, observed);
    const why = explain(diffs);
    for (const name of new Set(why.filter((a) => a).map((a) => a!.name))) abstractions[name] = (abstractions[name] ?? 0) + 1;
    const first = diffs.find((_, i) => !why[i]);
    if (first) {
      const sig = signatureOf(first);
      const known = bySig.get(sig);
      if (known) bySig.set(sig, { ...known, count: known.count + 1 });
      else {
        const same = (q: Program) => {
          const e = firstUnexplained(q, i, o.thp);
          return e && e !== 'not-sequential' && signatureOf(e) === sig ? e : undefined;
        };
        const sh = shrinkDifference(p, first, same);
        bySig.set(sig, { signature: sig, seed: i, program: sh.program, difference: sh.difference, shrinkTries: sh.tries, count: 1 });
      }
    }
    o.onProgress?.(runs);
  }
  return { runs, compared, notSequential, ops, abstractions, differences: [...bySig.values()], ...(o.thp ? { observed } : {}) };
}
