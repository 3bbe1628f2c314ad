import type { Task } from '../sched/task.ts';
import { Waitable } from '../sched/waitable.ts';
import { LockClass, type LockLike } from './lock-class.ts';

/**
 * What every lock with one owner shares (spinlock_t, struct mutex, the folio
 * bit lock): the owner for the wait-for graph and lockdep, its lock class,
 * and the labels its lock and unlock steps show in a trace.
 */
export abstract class OwnedLock extends Waitable implements LockLike {
  owner: Task | undefined;
  readonly lockClass: LockClass;
  readonly lockLabel: string;
  readonly unlockLabel: string;

  constructor(readonly name: string, className: string, lock: string, unlock: string) {
    super();
    this.lockClass = LockClass.get(className);
    this.lockLabel = `${lock}(${name})`;
    this.unlockLabel = `${unlock}(${name})`;
  }

  holders(): readonly Task[] {
    return this.owner ? [this.owner] : [];
  }

  describe(): string {
    return this.name;
  }
}
