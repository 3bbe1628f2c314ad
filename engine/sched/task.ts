import type { Waitable } from './waitable.ts';

/**
 * What a kernel path yields: a label (a preemption point, naming what the task
 * is about to do) or a Waitable (block until it wakes us).
 */
export type Yielded = string | Waitable;

/** A kernel path: a generator that yields at each preemption point. */
export type KGen<T = void> = Generator<Yielded, T, void>;

export type TaskState = 'runnable' | 'blocked' | 'done';

/**
 * A lock as the task's held-lock list names it: what lockdep (engine/locking)
 * needs of it, structurally, so that the scheduler depends on no lock type.
 */
export interface HeldLockRef {
  readonly name: string;
  readonly lockClass: { readonly name: string; key(subclass: number): string };
}

/** A lock held by a task, as lockdep sees it (task_struct's held_locks[]). */
export interface HeldLock {
  readonly lock: HeldLockRef;
  readonly subclass: number;
  readonly read: boolean;
  /** The global step it was taken at. */
  readonly at: number;
  /** The kernel stack that took it, captured in debug (report) mode only. */
  readonly stack: string | undefined;
}

/** Where a held lock was taken, for messages. */
export function siteOf(h: HeldLock): string {
  return h.stack ?? `step ${h.at}`;
}

export class Task {
  state: TaskState = 'runnable';
  /** The label the task is parked at: what its next step will do. */
  label = 'start';
  waitingOn: Waitable | undefined;
  /** A rw_semaphore waiter's mode, so readers queue behind a waiting writer. */
  waitWrite = false;
  readonly held: HeldLock[] = [];
  /** RCU read-side nesting, and a count of completed outermost sections. */
  rcuDepth = 0;
  rcuSections = 0;
  steps = 0;
  lastProgress = 0;
  /** Set when the task is blocked holding a spinlock would be a bug. */
  spinDepth = 0;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly gen: KGen<unknown>,
    /** Kernel threads that may idle forever (the RCU grace-period kthread). */
    readonly daemon: boolean,
  ) {}

  wake(): void {
    if (this.state === 'blocked') {
      this.state = 'runnable';
      this.waitingOn = undefined;
    }
  }

  toString(): string {
    return `${this.name}#${this.id}`;
  }
}
