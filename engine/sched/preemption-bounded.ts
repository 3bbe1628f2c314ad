import { other, Parked } from './parked.ts';
import { Prng } from './prng.ts';
import type { Strategy } from './strategy.ts';
import { SyncClock, type SyncKind } from './sync.ts';

export interface PreemptionBoundedOptions {
  readonly seed: number;
  /** c: how many times a running task is preempted (>= 1). */
  readonly preemptions: number;
  /** k: an estimate of the steps (or, with `at`, the events) an execution takes; preemption points fall in [1, k]. */
  readonly maxSteps: number;
  /**
   * Count synchronization events of these kinds instead of steps: the i-th
   * point is the step after the n-th such event (engine/sched/sync.ts).
   */
  readonly at?: readonly SyncKind[];
  /**
   * Keep a task a point preempted off the CPU while any other task can run
   * (PCT's demotion, for the one task): where the task that took over blocks,
   * the next task is drawn among the others, so a reader parked in its window
   * stays there through a writer's sleeps (swapoff's grace periods and lock
   * waits) instead of being drawn back at the writer's first block. The parked
   * task runs again when it alone can run, or when a task sleeps in a wait
   * loop (it may be waiting for the parked one).
   */
  readonly park?: boolean;
}

/**
 * Preemption-bounded sampling (context bounding: Musuvathi and Qadeer, PLDI
 * 2007). The current task keeps the CPU until it blocks, sleeps or ends;
 * then a random runnable task follows. The exception is c preemption
 * points, each at a random step, where a random other runnable task takes
 * over.
 *
 * Most races need only one or two preemptions. A program of k steps and n
 * tasks has about n·k schedules with one (who runs first, where it is
 * preempted). So a window one step wide is hit once in about n·k runs.
 * Random walk, by contrast, switches on almost every step and leaves a
 * task's window before the other side runs long enough. Examples: __split_vma() between its vm_pgoff and vm_start
 * stores, and copy_present_pte() between fork's pin check and its
 * write-protect.
 *
 * With `at`, the points are counted in synchronization events instead of
 * steps: the step after the n-th lock release (or acquire, or the step
 * before the n-th acquire). A run has a few dozen such events where it has
 * hundreds of steps, and a race window opens or closes at one of them; so a
 * window one step wide right after munmap's mmap_write_downgrade() is hit
 * once in about n·(releases) runs instead of n·k (CHESS preempts only at
 * synchronization operations: Musuvathi et al., OSDI 2008).
 *
 * This samples the space that a preemption-bounded DFS would enumerate.
 */
export class PreemptionBounded implements Strategy {
  private readonly prng: Prng;
  /** Sorted ascending: steps at which the running task is preempted. */
  private readonly points: number[] = [];
  /** Which other runnable task takes over at each point (an index, modulo how many there are). */
  private readonly picks: number[] = [];
  private next = 0;
  private readonly clock: SyncClock;
  /** With `park`: the task the last point preempted. */
  private readonly parked: Parked;

  constructor(readonly options: PreemptionBoundedOptions) {
    if (!Number.isInteger(options.preemptions) || options.preemptions < 1) {
      throw new RangeError(`preemption-bounded: preemptions must be an integer >= 1, got ${options.preemptions}`);
    }
    if (!Number.isInteger(options.maxSteps) || options.maxSteps < 1) {
      throw new RangeError(`preemption-bounded: maxSteps must be an integer >= 1, got ${options.maxSteps}`);
    }
    this.clock = new SyncClock(options.at);
    this.prng = new Prng(options.seed);
    this.parked = new Parked(this.prng);
    for (let i = 0; i < options.preemptions; i++) this.points.push(1 + this.prng.below(options.maxSteps));
    this.points.sort((a, b) => a - b);
    for (let i = 0; i < options.preemptions; i++) this.picks.push(this.prng.below(0x1_0000));
  }

  nextTask(runnable: readonly number[], current: number, step: number, sleeping: boolean, syncs: readonly number[] = NO_SYNCS): number {
    let preempt = -1;
    const now = this.clock.now(step, syncs);
    while (this.next < this.points.length && this.points[this.next]! <= now) preempt = this.picks[this.next++]!;
    const running = runnable.includes(current);
    if (preempt >= 0 && runnable.length > 1) {
      if (this.options.park && running) this.parked.task = current;
      return other(runnable, current, running, preempt);
    }
    // Where the running task blocks, ends or sleeps, choosing who runs next
    // costs no preemption: the bound counts only preemptions. Context
    // bounding explores every choice there, so this samples among them.
    // For example, swapoff blocks on a grace period while a reader is
    // parked in its window; which task runs next decides whether the
    // reader resumes before the free or after it.
    return this.parked.follow(runnable, current, running, sleeping);
  }

  describe(): string {
    const { seed, preemptions, maxSteps, park } = this.options;
    return `preemption-bounded(seed=${seed},c=${preemptions},k=${maxSteps}${park ? ',park' : ''}${this.clock.suffix()})`;
  }
}

const NO_SYNCS: readonly number[] = [0, 0, 0];
