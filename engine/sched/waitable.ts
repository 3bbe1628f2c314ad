import type { Task } from './task.ts';

/**
 * Anything a task can sleep on: a lock, a seqcount write section, an RCU grace
 * period, a wait queue. A task blocks by yielding the Waitable; it is not
 * runnable until the Waitable wakes it, so no strategy spends steps on it.
 * Woken tasks re-check their condition: wakeups are hints, as in the kernel.
 */
export abstract class Waitable {
  /** Tasks asleep on it; made on the first sleeper (most locks never see contention). */
  waiters: Task[] | undefined;

  /** Tasks the waiters are waiting for: the edges of the wait-for graph. */
  abstract holders(): readonly Task[];

  /** How this shows in a deadlock report: `mmap_lock (mm#1)`. */
  abstract describe(): string;

  /** Make every waiter runnable again; each retries its own condition. */
  wakeAll(): void {
    const ws = this.waiters;
    if (ws === undefined) return;
    for (let i = 0; i < ws.length; i++) ws[i]!.wake();
    ws.length = 0;
  }

  /** `task` sleeps here until wakeAll(). */
  addWaiter(task: Task): void {
    (this.waiters ??= []).push(task);
  }
}

/** A plain wait queue: wait_event / wake_up without a holder. */
export class WaitQueue extends Waitable {
  constructor(readonly name: string) {
    super();
  }
  holders(): readonly Task[] {
    return [];
  }
  describe(): string {
    return this.name;
  }
}
