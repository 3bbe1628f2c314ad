import { current } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { lockAcquired, lockReleased, lockWanted, might_sleep } from './held.ts';
import { OwnedLock } from './owned.ts';

/** struct mutex: a sleeping lock with an owner. */
export class Mutex extends OwnedLock {
  constructor(name: string, className: string = name) {
    super(name, className, 'mutex_lock', 'mutex_unlock');
  }
}

export function* mutex_lock(lock: Mutex, subclass = 0): KGen {
  lockWanted();
  yield lock.lockLabel;
  might_sleep(lock.name);
  while (lock.owner !== undefined) yield lock;
  lock.owner = lockAcquired(lock, subclass, false, false);
}

export function* mutex_trylock(lock: Mutex): KGen<boolean> {
  lockWanted();
  yield lock.lockLabel;
  if (lock.owner !== undefined) return false;
  lock.owner = lockAcquired(lock, 0, false, true);
  return true;
}

export function* mutex_unlock(lock: Mutex): KGen {
  yield lock.unlockLabel;
  const me = current();
  if (lock.owner === me) lock.owner = undefined;
  lockReleased(lock, me);
  lock.wakeAll();
}

export function mutex_is_locked(lock: Mutex): boolean {
  return lock.owner !== undefined;
}
