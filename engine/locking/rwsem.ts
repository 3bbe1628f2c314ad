import { current, report } from '../kernel/current.ts';
import type { KGen, Task } from '../sched/task.ts';
import { Waitable } from '../sched/waitable.ts';
import { LockClass, type LockLike } from './lock-class.ts';
import { lockAcquired, lockReleased, lockWanted, might_sleep, syncReleased } from './held.ts';

type RwsemOp = 'dr' | 'dw' | 'ur' | 'uw' | 'dg';
const RWSEM_OPS: readonly RwsemOp[] = ['dr', 'dw', 'ur', 'uw', 'dg'];
const RWSEM_FN: readonly string[] = ['down_read', 'down_write', 'up_read', 'up_write', 'downgrade_write'];

/**
 * struct rw_semaphore. Readers queue behind a waiting writer, as the kernel's
 * rwsem does: that is why taking it for read twice in one task can deadlock
 * (T1 reads, T2 waits to write, T1 reads again), and lockdep says so.
 */
export class RwSemaphore extends Waitable implements LockLike {
  writer: Task | undefined;
  readonly readers: Task[] = [];
  readonly lockClass: LockClass;
  /** The trace labels, each made on first use: most VMAs' locks are taken a few times, or never, and most only for read or only for write. */
  private labels: (string | undefined)[] | undefined;

  constructor(readonly name: string, className: string = name) {
    super();
    this.lockClass = LockClass.get(className);
  }

  label(which: RwsemOp): string {
    const labels = (this.labels ??= [undefined, undefined, undefined, undefined, undefined]);
    const i = RWSEM_OPS.indexOf(which);
    return (labels[i] ??= `${RWSEM_FN[i]}(${this.name})`);
  }

  holders(): readonly Task[] {
    return this.writer ? [this.writer] : this.readers;
  }

  describe(): string {
    return this.name;
  }

  /** A writer is queued: new readers must wait behind it. */
  writerWaiting(): boolean {
    const ws = this.waiters;
    if (ws) for (const w of ws) if (w.waitWrite) return true;
    return false;
  }

  canRead(): boolean {
    return this.writer === undefined && !this.writerWaiting();
  }

  canWrite(): boolean {
    return this.writer === undefined && this.readers.length === 0;
  }

  isLocked(): boolean {
    return this.writer !== undefined || this.readers.length > 0;
  }

  heldByCurrent(): boolean {
    const me = current();
    return this.writer === me || this.readers.includes(me);
  }
}

export function* down_read(sem: RwSemaphore, subclass = 0): KGen {
  lockWanted();
  yield sem.label('dr');
  might_sleep(sem.name);
  while (!sem.canRead()) yield sem;
  sem.readers.push(lockAcquired(sem, subclass, true, false));
}

export function* down_read_trylock(sem: RwSemaphore): KGen<boolean> {
  lockWanted();
  yield sem.label('dr');
  if (!sem.canRead()) return false;
  sem.readers.push(lockAcquired(sem, 0, true, true));
  return true;
}

export function* down_write(sem: RwSemaphore, subclass = 0): KGen {
  lockWanted();
  yield sem.label('dw');
  might_sleep(sem.name);
  const me = current();
  while (!sem.canWrite()) {
    me.waitWrite = true;
    yield sem;
  }
  me.waitWrite = false;
  sem.writer = lockAcquired(sem, subclass, false, false);
}

export function* down_write_trylock(sem: RwSemaphore): KGen<boolean> {
  lockWanted();
  yield sem.label('dw');
  if (!sem.canWrite()) return false;
  sem.writer = lockAcquired(sem, 0, false, true);
  return true;
}

export function* up_read(sem: RwSemaphore): KGen {
  yield sem.label('ur');
  const me = current();
  const i = sem.readers.lastIndexOf(me);
  if (i >= 0) sem.readers.splice(i, 1);
  lockReleased(sem, me);
  sem.wakeAll();
}

export function* up_write(sem: RwSemaphore): KGen {
  yield sem.label('uw');
  const me = current();
  if (sem.writer === me) sem.writer = undefined;
  lockReleased(sem, me);
  sem.wakeAll();
}

/** downgrade_write(): write -> read atomically, letting waiting readers in. */
export function* downgrade_write(sem: RwSemaphore): KGen {
  yield sem.label('dg');
  const me = current();
  if (sem.writer !== me) report('lock-order', `downgrade_write(${sem.name}) by ${me}, which does not hold it for write`);
  const h = me.held.find((x) => x.lock === sem);
  sem.writer = undefined;
  sem.readers.push(me);
  if (h) (h as { read: boolean }).read = true;
  syncReleased();
  sem.wakeAll();
}

/** lockdep_assert_held_write() */
export function rwsem_is_write_locked_by_current(sem: RwSemaphore): boolean {
  return sem.writer === current();
}
