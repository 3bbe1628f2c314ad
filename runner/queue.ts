/**
 * The coverage-guided campaign's queue: inputs (program + schedule) that
 * added coverage, with what a mutation needs of their run. Picked by weight:
 * more new features, and (patch-directed) reaching the changed lines, weigh
 * more; an entry picked often weighs less, so new finds get their turn.
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

/** How much more an entry that reaches the patch's lines is picked. */
export const TARGET_WEIGHT = 16;

export function weightOf(e: QueueEntry): number {
  const base = (1 + Math.min(e.fresh, 32)) * (e.target ? TARGET_WEIGHT : 1);
  return base / (1 + (e.picked >>> 4));
}

export class Queue {
  readonly entries: QueueEntry[] = [];

  get length(): number {
    return this.entries.length;
  }

  push(e: QueueEntry): void {
    this.entries.push(e);
  }

  /** One entry, by weight (deterministic for the generator's state). */
  pick(rng: Prng): QueueEntry {
    let total = 0;
    for (const e of this.entries) total += weightOf(e);
    let x = (rng.nextU32() / 0x1_0000_0000) * total;
    for (const e of this.entries) {
      if ((x -= weightOf(e)) < 0) {
        e.picked++;
        return e;
      }
    }
    const last = this.entries[this.entries.length - 1]!;
    last.picked++;
    return last;
  }
}
