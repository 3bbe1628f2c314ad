import { ENOMEM } from '../../engine/mm/mm_types.ts';
import type { OpRecord } from '../../engine/program/history.ts';

/** One pin's life as user space saw it. */
export interface PinLife {
  readonly id: number;
  readonly as: number;
  readonly addr: number;
  readonly pinned: OpRecord;
  /**
   * From this step on the process may have unmapped, moved or zapped the
   * pinned address itself (munmap, mremap, DONTNEED), so the pin need no
   * longer be the page mapped there. Infinity if it never did.
   */
  readonly detachStart: number;
  /** Accesses ending by here saw at most what the mapping held until then. */
  readonly detachEnd: number;
}

/** Does op `r` (in the pin's address space) take `addr` away from the mapping? A failed op took nothing. */
function detaches(r: OpRecord, addr: number): boolean {
  if (r.result < 0 && !(r.op.op === 'madvise' && r.result === -ENOMEM)) return false;
  const within = (from: number | undefined, n: number | undefined): boolean => from !== undefined && n !== undefined && addr >= from && addr < from + n;
  switch (r.op.op) {
    case 'munmap':
      return within(r.addr, r.pages);
    case 'madvise':
      return r.op.advice === 'DONTNEED' && within(r.addr, r.pages);
    case 'mremap': {
      // Moved: the whole old range (and a MREMAP_FIXED target) left the mapping.
      // In place: only what a shrink cut off.
      if (r.newAddr !== r.addr) return within(r.addr, r.pages) || (r.op.fixedTo !== undefined && within(r.newAddr, r.op.pages));
      return r.op.pages < r.pages! && within(r.addr! + r.op.pages, r.pages! - r.op.pages);
    }
    default:
      return false;
  }
}

/** Every successful pin of the run, with the window in which it must stay coherent. */
export function pinLives(recs: readonly OpRecord[]): Map<number, PinLife> {
  const lives = new Map<number, PinLife>();
  for (const p of recs) {
    if (p.op.op !== 'pin' || p.result < 0 || p.pinId === undefined) continue;
    let detachStart = Infinity;
    let detachEnd = Infinity;
    for (const r of recs) {
      // A detaching op counts if it had not finished before the pin began.
      if (r.as !== p.as || r.end <= p.start || !detaches(r, p.addr!)) continue;
      if (r.start < detachStart) {
        detachStart = r.start;
        detachEnd = r.end;
      }
    }
    lives.set(p.pinId, { id: p.pinId, as: p.as, addr: p.addr!, pinned: p, detachStart, detachEnd });
  }
  return lives;
}

/** Was this access through the pin certainly over before the process detached the address? */
export function coherentAccess(life: PinLife, r: OpRecord): boolean {
  return r.end <= life.detachStart;
}
