import { Prng } from './prng.ts';
import type { Strategy } from './strategy.ts';
import { SyncClock, type SyncKind } from './sync.ts';

export interface PctOptions {
  readonly seed: number;
  /** Bug depth d: the number of ordering constraints the bug needs (>= 1). */
  readonly depth: number;
  /** An estimate k of the steps (or, with `at`, the events) an execution takes; change points fall in [1, k]. */
  readonly maxSteps: number;
  /** Count synchronization events of these kinds instead of steps (engine/sched/sync.ts). */
  readonly at?: readonly SyncKind[];
}

/**
 * Probabilistic Concurrency Testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
 * ASPLOS 2010). Every task gets a distinct random priority >= d; the highest
 * runnable priority runs. At d-1 random change points the running task drops to
 * priority d-1-i. A bug of depth d is found with probability at least
 * 1/(n·k^(d-1)) per execution, for n tasks and k steps. With `at`, k counts
 * synchronization events instead (the paper's k is the number of
 * instructions where priorities may change; only synchronization operations
 * need to be such points), which is a far smaller k for the same run.
 */
export class Pct implements Strategy {
  private readonly prng: Prng;
  private readonly priority: number[] = [];
  /** Sorted ascending: step numbers at which the running task is demoted. */
  private readonly changePoints: number[] = [];
  private nextChange = 0;
  private spawned = 0;
  /** Below every change-point priority: where yielding tasks go. */
  private lowest = 0;
  private readonly clock: SyncClock;

  constructor(readonly options: PctOptions) {
    if (!Number.isInteger(options.depth) || options.depth < 1) {
      throw new RangeError(`pct: depth must be an integer >= 1, got ${options.depth}`);
    }
    if (!Number.isInteger(options.maxSteps) || options.maxSteps < 1) {
      throw new RangeError(`pct: maxSteps must be an integer >= 1, got ${options.maxSteps}`);
    }
    this.clock = new SyncClock(options.at);
    this.prng = new Prng(options.seed);
    for (let i = 0; i < options.depth - 1; i++) this.changePoints.push(1 + this.prng.below(options.maxSteps));
    this.changePoints.sort((a, b) => a - b);
  }

  /** A task in a retry loop goes below every other: it waits for them. */
  onYield(id: number): void {
    this.priority[id] = --this.lowest;
  }

  onSpawn(id: number): void {
    // A random distinct priority >= d: insert the newcomer at a random rank among
    // the tasks that still hold an initial priority, shifting those above it up.
    const d = this.options.depth;
    const rank = this.prng.below(this.spawned + 1);
    for (let t = 0; t < this.priority.length; t++) {
      const p = this.priority[t]!;
      if (p >= d + rank) this.priority[t] = p + 1;
    }
    this.priority[id] = d + rank;
    this.spawned++;
  }

  nextTask(runnable: readonly number[], _current: number, step: number, _sleeping = false, syncs: readonly number[] = NO_SYNCS): number {
    let best = this.highest(runnable);
    const now = this.clock.now(step, syncs);
    while (this.nextChange < this.changePoints.length && this.changePoints[this.nextChange]! <= now) {
      this.nextChange++;
      this.priority[best] = this.options.depth - this.nextChange;
      best = this.highest(runnable);
    }
    return best;
  }

  /** n, k and d as run, and the per-execution detection bound for depth d. */
  get stats(): { n: number; k: number; d: number; bound: number } {
    const n = Math.max(1, this.spawned);
    const k = this.options.maxSteps;
    const d = this.options.depth;
    return { n, k, d, bound: 1 / (n * k ** (d - 1)) };
  }

  describe(): string {
    const { n, k, d } = this.stats;
    return `pct(seed=${this.options.seed},n=${n},k=${k},d=${d}${this.clock.suffix()})`;
  }

  private highest(runnable: readonly number[]): number {
    let best = runnable[0]!;
    let bestP = this.priority[best] ?? 0;
    for (let i = 1; i < runnable.length; i++) {
      const id = runnable[i]!;
      const p = this.priority[id] ?? 0;
      if (p > bestP) {
        best = id;
        bestP = p;
      }
    }
    return best;
  }
}

const NO_SYNCS: readonly number[] = [0, 0, 0];
