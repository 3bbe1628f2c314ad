/**
 * The coverage-guided campaign's queue: inputs (program + schedule) that
 * added coverage, with what a mutation needs of their run. Picked by weight:
 * more new features weigh more, an entry picked often less, so new finds get
 * their turn; a patch-directed campaign picks from the entries that reach the
 * changed lines half the time.
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
  /** Features it added when it joined. */
  readonly fresh: number;
  /** It ran a line the patch changed. */
  readonly target: boolean;
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
  /** Entries that ran a changed line of the patch (patch-directed campaigns). */
  private readonly targets: QueueEntry[] = [];
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
    if (e.target) {
      if (this.targets.length < MAX_QUEUE) this.targets.push(e);
      else this.targets[this.pushed % MAX_QUEUE] = e;
    }
  }

  /**
   * One entry (deterministic for the generator's state): half the time, when
   * some entries reach the patch's changed lines, one of those; else the
   * heaviest of TOURNAMENT drawn at random.
   */
  pick(rng: Prng): QueueEntry {
    const from = this.targets.length > 0 && rng.below(2) === 0 ? this.targets : this.entries;
    let best = from[rng.below(from.length)]!;
    for (let k = 1; k < TOURNAMENT; k++) {
      const e = from[rng.below(from.length)]!;
      if (weightOf(e) > weightOf(best)) best = e;
    }
    best.picked++;
    return best;
  }
}
