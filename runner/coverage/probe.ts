/**
 * A run's coverage: branch counters of the model copy this runner belongs to,
 * and interleaving pairs and lock orders from the per-step hook. begin()
 * before a run, end() after it gives the run's features.
 */
import type { RunContext, RunHooks } from '../../engine/program/executor.ts';
import { BranchProbe } from './branches.ts';
import { InterleavingProbe } from './interleaving.ts';

/** The tree this runner (and so the model it runs) belongs to. */
export const TREE_ROOT = new URL('../../', import.meta.url).href;

export class CoverageProbe {
  readonly branches = new BranchProbe(TREE_ROOT);
  readonly inter: InterleavingProbe;
  private features: number[] = [];

  /** Patch-directed: the changed preemption points, and the changed lines' counters (BranchProbe numbering). */
  constructor(targetLabels?: ReadonlySet<string>, targetSites?: Iterable<number>) {
    this.inter = new InterleavingProbe(targetLabels, [...(targetSites ?? [])].map((i) => i + this.branches.lo));
  }

  /** The run's hooks: coverage first (a property's afterStep may end the run). */
  hooks(base: RunHooks): RunHooks {
    const inter = this.inter;
    const after = base.afterStep;
    return {
      ...base,
      afterStep: after
        ? (ctx: RunContext) => {
            inter.afterStep(ctx);
            after(ctx);
          }
        : (ctx: RunContext) => inter.afterStep(ctx),
    };
  }

  begin(): void {
    this.features = [];
    this.branches.clear();
    this.inter.begin(this.features);
  }

  /** The run's features; `seen` gets each branch counter that ran. */
  end(seen?: (site: number) => void): number[] {
    this.branches.collect(this.features, seen);
    return this.features;
  }
}
