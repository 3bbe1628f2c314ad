import { Prng } from './prng.ts';

/**
 * The one task a preemption parked (preemption-bounded's `park`, ParkAt): kept
 * off the CPU while any other task can run, so a task preempted inside its
 * race window stays there through the other side's sleeps and lock waits.
 */
export class Parked {
  /** The parked task's id, until it runs again; -1 for none. */
  task = -1;

  constructor(private readonly prng: Prng) {}

  /**
   * Who runs where no preemption point falls: the running task keeps the CPU;
   * where it blocked or ended, pick(); a task sleeping in a wait loop gives the
   * CPU up and ends the parking (it may be waiting for the parked task).
   */
  follow(runnable: readonly number[], current: number, running: boolean, sleeping: boolean): number {
    if (sleeping) this.task = -1;
    if (!running) return this.pick(runnable);
    if (sleeping && runnable.length > 1) return other(runnable, current, true, this.prng.below(runnable.length - 1));
    return current;
  }

  /** Who runs where the running task blocked or ended: a random runnable task, the parked one last. */
  pick(runnable: readonly number[]): number {
    const p = this.task;
    if (p >= 0 && runnable.length > 1 && runnable.includes(p)) return other(runnable, p, true, this.prng.below(runnable.length - 1));
    if (p >= 0) this.task = -1;
    return runnable[this.prng.below(runnable.length)]!;
  }
}

/** The i-th runnable task (modulo how many there are) other than `current`; runnable is ascending. */
export function other(runnable: readonly number[], current: number, running: boolean, i: number): number {
  i %= runnable.length - (running ? 1 : 0);
  for (const id of runnable) {
    if (id === current) continue;
    if (i-- === 0) return id;
  }
  throw new Error('unreachable: i is below the number of other tasks');
}
