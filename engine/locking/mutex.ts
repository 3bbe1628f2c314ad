import { current } from '../kernel/current.ts';
import type { KGen, Task } from '../sched/task.ts';
import { Waitable } from '../sched/waitable.ts';
import { LockClass, type LockLike } from './lock-class.ts';
import { lockAcquired, lockReleased, might_sleep } from './held.ts';

/** struct mutex: a sleeping lock with an owner. */
export class Mutex extends Waitable implements LockLike {
  owner: Task | undefined;
  readonly lockClass: LockClass;
  readonly lockLabel: string;
  readonly unlockLabel: string;

  constructor(readonly name: string, className: string = name) {
    super();
    this.lockClass = LockClass.get(className);
    this.lockLabel = `mutex_lock(${name})`;
    this.unlockLabel = `mutex_unlock(${name})`;
  }

  holders(): readonly Task[] {
    return this.owner ? [this.owner] : [];
  }

  describe(): string {
    return this.name;
  }
}

export function* mutex_lock(lock: Mutex, subclass = 0): KGen {
  yield lock.lockLabel;
  might_sleep(lock.name);
  while (lock.owner !== undefined) yield lock;
  lock.owner = lockAcquired(lock, subclass, false, false);
}

export function* mutex_trylock(lock: Mutex): KGen<boolean> {
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
