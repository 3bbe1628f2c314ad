/**
 * Patch-directed reach: over a campaign, how many runs ran a changed line,
 * under how many distinct interleavings at the changed preemption points,
 * and (for the warning when they never ran) which op kinds the runs that
 * entered the changed functions had.
 */
import type { OpKind, Program } from '../../engine/program/ops.ts';
import type { PatchTargets } from './targets.ts';

export interface PatchReach {
  /** Counters that guard changed lines, and how many of them ran. */
  readonly sites: number;
  readonly sitesReached: number;
  /** Runs that ran at least one changed line. */
  readonly runs: number;
  /** Distinct pairs (preemption point, preemption point) across a context switch, one of them a changed point. */
  readonly interleavings: number;
  readonly labels: readonly string[];
  /** Per changed function: runs that entered it, and the op kinds of those runs (most frequent first). */
  readonly functions: readonly { readonly name: string; readonly runs: number; readonly opKinds: readonly OpKind[] }[];
  readonly uncovered: readonly string[];
  /** What the directed fresh draws learnt: per swarm dimension, each value's weight; the op kinds they swarm over (undefined: all). */
  readonly shapes?: { readonly weights: Record<string, Record<string, number>>; readonly kinds?: readonly OpKind[] };
}

export class ReachTracker {
  private readonly reachedSites = new Set<number>();
  private readonly pairs = new Set<string>();
  private readonly fnRuns = new Map<number, number>();
  private readonly fnOps = new Map<number, Map<OpKind, number>>();
  private runs = 0;
  private inRun = false;
  private readonly fnHit = new Set<number>();

  constructor(readonly targets: PatchTargets) {}

  /** A counter ran in this run (BranchProbe numbering). */
  site(i: number): void {
    if (this.targets.sites.has(i)) {
      this.reachedSites.add(i);
      this.inRun = true;
    }
    this.fnHit.add(i);
  }

  /** The run is over: did it reach a changed line, and how many interleavings at the changed points had no run before it? */
  endRun(program: Program, pairs: ReadonlySet<string> | undefined): { reached: boolean; newPairs: number } {
    const reached = this.inRun;
    if (reached) this.runs++;
    const before = this.pairs.size;
    for (const p of pairs ?? []) this.pairs.add(p);
    const newPairs = this.pairs.size - before;
    for (const entry of this.targets.functions.values()) {
      if (!this.fnHit.has(entry)) continue;
      this.fnRuns.set(entry, (this.fnRuns.get(entry) ?? 0) + 1);
      const ops = this.fnOps.get(entry) ?? new Map<OpKind, number>();
      this.fnOps.set(entry, ops);
      for (const proc of program.processes) for (const t of proc.threads) for (const op of t) ops.set(op.op, (ops.get(op.op) ?? 0) + 1);
      for (const t of program.kthreads ?? []) for (const op of t) ops.set(op.op, (ops.get(op.op) ?? 0) + 1);
    }
    this.inRun = false;
    this.fnHit.clear();
    return { reached, newPairs };
  }

  summary(): PatchReach {
    return {
      sites: this.targets.sites.size,
      sitesReached: this.reachedSites.size,
      runs: this.runs,
      interleavings: this.pairs.size,
      labels: [...this.targets.labels],
      functions: [...this.targets.functions].map(([name, entry]) => ({
        name,
        runs: this.fnRuns.get(entry) ?? 0,
        opKinds: [...(this.fnOps.get(entry) ?? new Map<OpKind, number>())].sort((a, b) => b[1] - a[1]).map(([k]) => k),
      })),
      uncovered: this.targets.uncovered,
    };
  }
}
