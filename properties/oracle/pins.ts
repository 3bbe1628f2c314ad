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
  /**
   * From this step on it certainly had (the end of the first op that
   * certainly detached the address): an access that began here goes to a
   * page the mapping no longer has. Infinity if no op certainly did.
   */
  readonly goneBy: number;
  /** A detached pin holds at most what the mapping held until here (or went in through a pin). */
  readonly detachEnd: number;
}

/**
 * Does op `r` (in the pin's address space) take `addr` away from the
 * mapping: 'yes', 'maybe' (a failed op that may have done so before it
 * failed), or false.
 */
function detaches(r: OpRecord, addr: number): 'yes' | 'maybe' | false {
  const within = (from: number | undefined, n: number | undefined): boolean => from !== undefined && n !== undefined && addr >= from && addr < from + n;
  if (r.result < 0) {
    // A DONTNEED over a hole zaps the mapped parts, then says -ENOMEM; the
    // hole may be a munmap in flight that has detached the VMA and not yet
    // zapped it (as build.ts reads every failed madvise: a maybe).
    if (r.kind === 'madvise') return r.op.advice === 'DONTNEED' && within(r.addr, r.pages) ? 'maybe' : false;
    // mremap_to() unmaps the MREMAP_FIXED target, then a shrink's tail, and
    // only then looks the old range up (-EFAULT if it is not one VMA) and
    // moves it (-ENOMEM): a failed MREMAP_FIXED may have unmapped both.
    if (r.kind === 'mremap' && r.fixedAddr !== undefined) {
      const tail = r.pages! > r.op.pages && within(r.addr! + r.op.pages, r.pages! - r.op.pages);
      return within(r.fixedAddr, r.op.pages) || tail ? 'maybe' : false;
    }
    // Anything else failed before it changed a mapping.
    return false;
  }
  switch (r.kind) {
    case 'munmap':
      return within(r.addr, r.pages) && 'yes';
    case 'madvise':
      return r.op.advice === 'DONTNEED' && within(r.addr, r.pages) && 'yes';
    case 'mremap': {
      // Moved: the whole old range (and a MREMAP_FIXED target) left the mapping.
      // In place: only what a shrink cut off.
      if (r.newAddr !== r.addr) return (within(r.addr, r.pages) || (r.op.fixedTo !== undefined && within(r.newAddr, r.op.pages))) && 'yes';
      return r.op.pages < r.pages! && within(r.addr! + r.op.pages, r.pages! - r.op.pages) && 'yes';
    }
    default:
      return false;
  }
}

/** Every successful pin of the run, with the window in which it must stay coherent. */
export function pinLives(recs: readonly OpRecord[]): Map<number, PinLife> {
  const lives = new Map<number, PinLife>();
  for (const p of recs) {
    if (p.kind !== 'pin' || p.result < 0 || p.pinId === undefined || p.addr === undefined) continue;
    const found: { start: number; end: number; certain: boolean }[] = [];
    for (const r of recs) {
      // A detaching op counts if it had not finished before the pin began.
      if (r.as !== p.as || r.end <= p.start) continue;
      const d = detaches(r, p.addr);
      // One that overlapped the pin may have detached the address before
      // GUP took its page (the pin is then of the page mapped after it).
      if (d) found.push({ start: r.start, end: r.end, certain: d === 'yes' && r.start >= p.end });
    }
    let detachStart = Infinity;
    let goneBy = Infinity;
    for (const f of found) {
      detachStart = Math.min(detachStart, f.start);
      if (f.certain) goneBy = Math.min(goneBy, f.end);
    }
    // Whichever op detached it first, it had begun before goneBy (none: never detached).
    const first = found.filter((f) => f.start < goneBy);
    const detachEnd = first.length ? Math.max(...first.map((f) => f.end)) : Infinity;
    lives.set(p.pinId, { id: p.pinId, as: p.as, addr: p.addr, pinned: p, detachStart, goneBy, detachEnd });
  }
  return lives;
}

/** Was this access through the pin certainly over before the process may have detached the address? */
export function coherentAccess(life: PinLife, r: OpRecord): boolean {
  return r.end <= life.detachStart;
}

/** Might this access through the pin have gone to the page the address still mapped? */
export function mayBeCoherent(life: PinLife, r: OpRecord): boolean {
  return r.start < life.goneBy;
}
