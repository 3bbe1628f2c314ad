import { other, Parked } from './parked.ts';
import { Prng } from './prng.ts';
import { Replay } from './replay.ts';
import type { Schedule } from './schedule.ts';
import type { Strategy } from './strategy.ts';

/**
 * A recorded prefix, then one preemption that parks. Replays `switches` (a
 * run's recorded switches before `step`, so the run is the recorded one up to
 * there); at `step` hands the CPU to a random other runnable task and keeps
 * the preempted task off the CPU while any other can run, as
 * preemption-bounded's `park` does: where the task that took over blocks or
 * ends, a random runnable task follows, the parked one last; a task sleeping
 * in a wait loop gives the CPU up (it may wait for the parked one).
 *
 * The coverage-guided campaign places `step` at a preemption point drawn
 * uniformly over the code points a run stopped at, not over its steps
 * (runner/mutate/schedule.ts): a window that opens at a lockless read, one
 * step of a run's 300, gets the share that a point inside mmap_lock's
 * critical section, stopped at fifty times, gets.
 */
export class ParkAt implements Strategy {
  private readonly replay: Replay;
  private readonly prng: Prng;
  private fired = false;
  /** The task the point preempted. */
  private readonly parked: Parked;

  constructor(
    readonly switches: Schedule,
    readonly step: number,
    readonly seed: number,
  ) {
    this.replay = new Replay(switches);
    this.prng = new Prng(seed);
    this.parked = new Parked(this.prng);
  }

  nextTask(runnable: readonly number[], current: number, step: number, sleeping: boolean): number {
    if (step < this.step) return this.replay.nextTask(runnable, current, step, sleeping);
    const running = runnable.includes(current);
    if (!this.fired) {
      this.fired = true;
      if (running && runnable.length > 1) {
        this.parked.task = current;
        return other(runnable, current, true, this.prng.below(runnable.length - 1));
      }
    }
    return this.parked.follow(runnable, current, running, sleeping);
  }

  describe(): string {
    return `park-at(step=${this.step},seed=${this.seed},${this.switches.length} switches before)`;
  }
}
