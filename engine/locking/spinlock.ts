import { current } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { lockAcquired, lockReleased, lockWanted } from './held.ts';
import { OwnedLock } from './owned.ts';

/** spinlock_t. A task waiting for it sleeps in the model: no step is spent spinning. */
export class Spinlock extends OwnedLock {
  constructor(name: string, className: string = name) {
    super(name, className, 'spin_lock', 'spin_unlock');
  }
}

export function* spin_lock(lock: Spinlock, subclass = 0): KGen {
  lockWanted();
  yield lock.lockLabel;
  while (lock.owner !== undefined) yield lock;
  lock.owner = lockAcquired(lock, subclass, false, false);
  lock.owner.spinDepth++;
}

/** spin_lock_nested(): a second lock of one class, at a lockdep subclass. */
export const spin_lock_nested = spin_lock;

export function* spin_trylock(lock: Spinlock): KGen<boolean> {
  lockWanted();
  yield lock.lockLabel;
  if (lock.owner !== undefined) return false;
  lock.owner = lockAcquired(lock, 0, false, true);
  lock.owner.spinDepth++;
  return true;
}

export function* spin_unlock(lock: Spinlock): KGen {
  yield lock.unlockLabel;
  const me = current();
  if (lock.owner === me) {
    lock.owner = undefined;
    me.spinDepth--;
  }
  lockReleased(lock, me);
  lock.wakeAll();
}

export function spin_is_locked(lock: Spinlock): boolean {
  return lock.owner !== undefined;
}

/** lockdep_assert_held() */
export function spin_is_held_by_current(lock: Spinlock): boolean {
  return lock.owner === current();
}
