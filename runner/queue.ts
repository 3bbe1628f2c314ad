/**
 * The coverage-guided campaign's queue: inputs (program + schedule) that
 * added coverage, with what a mutation needs of their run. Picked by weight:
 * more new features weigh more, an entry picked often less, so new finds get
 * their turn; a patch-directed campaign picks from the entries whose run had
 * a new interleaving at a changed preemption point a third of the time, and
 * from those that ran a changed line another third (AFLGo's energy toward
 * the target, in two steps).
 */
import type { Schedule } from '../engine/index.ts';
import type { Prng } from '../engine/sched/prng.ts';
import type { CaseInput } from './seeds.ts';

export interface QueueEntry {
  readonly input: CaseInput;
  /** The switches its run made, its steps and its tasks. */
  readonly recorded: Schedule;
  readonly steps: number;
  readonly tasks: number;
  /** One step per distinct preemption point its run stopped at (where a parking preemption may land). */
  readonly points: Uint32Array;
  /** Features it added when it joined. */
  readonly fresh: number;
  /** 0: it ran no line the patch changed; 1: it ran one; 2: and it found a new interleaving at a changed preemption point. */
  readonly target: 0 | 1 | 2;
  /** The swarm choice of the fresh draw it descends from (undefined: replayed from a saved queue). */
  readonly choice?: readonly number[];
  picked: number;
}

/** The queue's bound: past it a new entry takes the place of the oldest (memory stays flat over a night). */
export const MAX_QUEUE = 20_000;

/** Entries a pick compares (tournament selection: O(1) per pick, however long the queue grows). */
export const TOURNAMENT = 4;

export function weightOf(e: QueueEntry): number {
  return (1 + Math.min(e.fresh, 32)) / (1 + (e.picked >>> 4));
}

export class Queue {
  readonly entries: QueueEntry[] = [];
  /** Entries that ran a changed line of the patch (patch-directed campaigns), and those that raced there. */
  private readonly targets: QueueEntry[] = [];
  private readonly hot: QueueEntry[] = [];
  private pushed = 0;

  get length(): number {
    return this.entries.length;
  }

  get targetCount(): number {
    return this.targets.length;
  }

  push(e: QueueEntry): void {
    if (this.entries.length < MAX_QUEUE) this.entries.push(e);
    else this.entries[this.pushed % MAX_QUEUE] = e;
    this.pushed++;
    if (e.target >= 1) bounded(this.targets, e, this.pushed);
    if (e.target === 2) bounded(this.hot, e, this.pushed);
  }

  /**
   * One entry (deterministic for the generator's state): when some entries
   * reach the patch's changed lines, a third of the time one that raced at a
   * changed point, a third one that ran a changed line; else (and always
   * without a patch) the heaviest of TOURNAMENT drawn at random.
   */
  pick(rng: Prng): QueueEntry {
    const tier = this.targets.length > 0 ? rng.below(3) : 2;
    const from = tier === 0 && this.hot.length > 0 ? this.hot : tier <= 1 ? this.targets : this.entries;
    let best = from[rng.below(from.length)]!;
    for (let k = 1; k < TOURNAMENT; k++) {
      const e = from[rng.below(from.length)]!;
      if (weightOf(e) > weightOf(best)) best = e;
    }
    best.picked++;
    return best;
  }
}

/** Push into a list bounded at MAX_QUEUE, replacing in turn once full. */
function bounded(list: QueueEntry[], e: QueueEntry, pushed: number): void {
  if (list.length < MAX_QUEUE) list.push(e);
  else list[pushed % MAX_QUEUE] = e;
}
