import { current, report, this_kernel } from '../kernel/current.ts';
import { SYNC_ACQUIRE, SYNC_LOCK, SYNC_RELEASE } from '../sched/sync.ts';
import type { Task } from '../sched/task.ts';
import type { LockLike } from './lock-class.ts';

/** Book-keeping shared by every primitive once it has the lock. */
export function lockAcquired(lock: LockLike, subclass: number, read: boolean, trylock: boolean): Task {
  const task = current();
  const k = this_kernel();
  k.sched.noteSync(SYNC_ACQUIRE);
  k.lockdep.acquired(task, lock, subclass, read, trylock);
  return task;
}

export function lockReleased(lock: LockLike, owner: Task = current()): void {
  const k = this_kernel();
  k.sched.noteSync(SYNC_RELEASE);
  k.lockdep.released(owner, lock);
}

/**
 * The running task is about to take a lock: called just before the lock's
 * label is yielded, so that the step boundary before the acquire is a
 * synchronization point for the scheduler (engine/sched/sync.ts).
 */
export function lockWanted(): void {
  this_kernel().sched.noteSync(SYNC_LOCK);
}

/** A release that is no lockdep release (downgrade_write, rcu_read_unlock, write_seqcount_end). */
export function syncReleased(): void {
  this_kernel().sched.noteSync(SYNC_RELEASE);
}

/** An acquire that is no lockdep acquire (rcu_read_lock, a seqcount write or read section begun). */
export function syncAcquired(): void {
  this_kernel().sched.noteSync(SYNC_ACQUIRE);
}

/**
 * might_sleep(): a sleeping lock taken while a spinlock is held is the
 * kernel's "BUG: sleeping function called from invalid context".
 */
export function might_sleep(what: string): void {
  const task = current();
  if (task.spinDepth > 0) report('kernel-bug', `BUG: sleeping function called from invalid context: ${task} takes ${what} holding a spinlock`);
}
