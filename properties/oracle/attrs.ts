import type { RecordOf } from '../../engine/program/history.ts';
import { addAll } from './copy.ts';
import type { Derived } from './fixpoint.ts';
import { event, UNMAPPED, type Timelines } from './timeline.ts';

/*
 * The flags fork reads, per (address space, page): WIPEONFORK and DONTFORK,
 * set and cleared by madvise, reset by mmap and munmap, carried by mremap
 * and (without DONTFORK) by fork.
 */

export const WIPE = 1;
export const DONTFORK = 2;

/** Possible flags as a copy sees them: none known (nothing, or unmapped) means none set. */
export function knownFlags(seen: Set<number>): Set<number> {
  seen.delete(UNMAPPED);
  if (seen.size === 0) seen.add(0);
  return seen;
}

/** The flags possible at (as, page) during [s, e]. */
export function flagsDuring(attrs: Timelines, as: number, page: number, s: number, e: number): Set<number> {
  return knownFlags(attrs.get(as, page).possibleDuring(s, e));
}

/** Might the page have been DONTFORK while the fork ran (and so not copied)? */
export function mayDontfork(attrs: Timelines): (fork: RecordOf<'fork'>, page: number) => boolean {
  return (fork, page) => {
    for (const f of flagsDuring(attrs, fork.as, page, fork.start, fork.end)) if (f & DONTFORK) return true;
    return false;
  };
}

/**
 * WIPEONFORK / KEEPONFORK / DONTFORK / DOFORK change the flags fork reads.
 * `maybe`: the madvise failed part-way, so its events are weak: they add
 * the new flags without ruling out the old.
 */
export function madviseAttrs(rec: RecordOf<'madvise'> & { readonly addr: number; readonly pages: number }, attrs: Timelines, maybe: boolean): Derived {
  const advice = rec.op.advice;
  const set = advice === 'WIPEONFORK' ? WIPE : advice === 'DONTFORK' ? DONTFORK : 0;
  const clear = advice === 'KEEPONFORK' ? WIPE : advice === 'DOFORK' ? DONTFORK : 0;
  const targets = Array.from({ length: rec.pages }, (_, i) => ({ addr: rec.addr + i, ev: event(rec, [], maybe) }));
  for (const t of targets) attrs.get(rec.as, t.addr).add(t.ev);
  return {
    size: targets.length,
    apply(): boolean {
      let changed = false;
      for (const t of targets) {
        // The flags before: anything any other event allowed until this one ended (loose, never wrong).
        const before = new Set<number>();
        for (const e of attrs.get(rec.as, t.addr).events) if (e !== t.ev && e.start <= rec.end) addAll(before, e.values);
        const flags = [...knownFlags(before)].map((v) => (v | set) & ~clear);
        if (addAll(t.ev.values, flags)) changed = true;
      }
      return changed;
    },
  };
}
