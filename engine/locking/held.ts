import { current, report, this_kernel } from '../kernel/current.ts';
import type { Task } from '../sched/task.ts';
import type { LockLike } from './lock-class.ts';

/** Book-keeping shared by every primitive once it has the lock. */
export function lockAcquired(lock: LockLike, subclass: number, read: boolean, trylock: boolean): Task {
  const task = current();
  this_kernel().lockdep.acquired(task, lock, subclass, read, trylock);
  return task;
}

export function lockReleased(lock: LockLike, owner: Task = current()): void {
  this_kernel().lockdep.released(owner, lock);
}

/**
 * might_sleep(): a sleeping lock taken while a spinlock is held is the
 * kernel's "BUG: sleeping function called from invalid context".
 */
export function might_sleep(what: string): void {
  const task = current();
  if (task.spinDepth > 0) report('kernel-bug', `BUG: sleeping function called from invalid context: ${task} takes ${what} holding a spinlock`);
}
