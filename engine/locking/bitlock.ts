import { current } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { lockAcquired, lockReleased, lockWanted, might_sleep } from './held.ts';
import { OwnedLock } from './owned.ts';

/** An object whose `flags` word holds the lock bit (a folio and PG_locked). */
export interface HasFlags {
  flags: number;
}

/**
 * A sleeping bit lock: the folio lock (PG_locked). The bit lives in the
 * target's flags, so touching the lock of a freed folio is a use-after-free;
 * the owner is kept for the wait-for graph and lockdep. Unlike a mutex it may
 * be released by another task than the one that took it (I/O completion).
 */
export class BitLock extends OwnedLock {
  constructor(
    readonly target: HasFlags,
    readonly bit: number,
    name: string,
    className: string,
  ) {
    super(name, className, 'lock', 'unlock');
  }

  isLocked(): boolean {
    return (this.target.flags & this.bit) !== 0;
  }
}

export function* bit_lock(l: BitLock, subclass = 0): KGen {
  lockWanted();
  yield l.lockLabel;
  might_sleep(l.name);
  while (l.isLocked()) yield l;
  setBit(l, true);
  l.owner = lockAcquired(l, subclass, false, false);
}

export function* bit_trylock(l: BitLock): KGen<boolean> {
  lockWanted();
  yield l.lockLabel;
  if (l.isLocked()) return false;
  setBit(l, true);
  l.owner = lockAcquired(l, 0, false, true);
  return true;
}

export function* bit_unlock(l: BitLock): KGen {
  yield l.unlockLabel;
  const owner = l.owner ?? current();
  setBit(l, false);
  l.owner = undefined;
  lockReleased(l, owner);
  l.wakeAll();
}

/** Sleep until the bit is clear, without taking it (folio_wait_locked). */
export function* bit_wait(l: BitLock): KGen {
  yield `wait(${l.name})`;
  while (l.isLocked()) yield l;
}

function setBit(l: BitLock, on: boolean): void {
  l.target.flags = on ? l.target.flags | l.bit : l.target.flags & ~l.bit;
}
