import type { OpRecord, RecordOf } from '../../engine/program/history.ts';

/*
 * A pin is of a physical page, not of an address: mremap (a plain move,
 * MREMAP_FIXED, MREMAP_DONTUNMAP) moves the page's PTE (move_ptes) and the
 * pin goes with it, so the device's writes show at the new address. Only
 * munmap, DONTNEED and what a shrink cuts off detach it. A pin's life is the
 * addresses its page may be mapped at, each a stay: the pinned address, then
 * where each mremap that may have carried the page put it.
 */

/** One address the pinned page may be mapped at, and when. */
export interface PinStay {
  readonly addr: number;
  /** The page may be mapped here from this step on: the pin's start, or the start of the mremap that brought it. */
  readonly from: number;
  /** If it came here, it had by this step (the pin's end, that mremap's end): a detach that begins later certainly takes it. */
  readonly arrived: number;
  /**
   * The page is certainly here from this step on (until detachStart): -Infinity
   * for the pinned address, the mremap's end for a certain move. Infinity if
   * it may never have come (an mremap that overlapped the pin, or the move
   * that brought it, may or may not have carried it).
   */
  readonly sureFrom: number;
  /** From this step on the process may have unmapped, moved or zapped this address. Infinity if it never did. */
  readonly detachStart: number;
  /** From this step on it certainly had (the end of the first op that certainly did). Infinity if none certainly did. */
  readonly goneBy: number;
  /** A page detached from here holds at most what this address held until this step (or went in through a pin). */
  readonly detachEnd: number;
  /** The mremap that brought the page here (undefined for the pinned address). */
  readonly via?: RecordOf<'mremap'>;
}

/** One pin's life as user space saw it. */
export interface PinLife {
  readonly id: number;
  readonly as: number;
  readonly pinned: OpRecord;
  /** The pinned address first. */
  readonly stays: readonly PinStay[];
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

/** Where a successful moving mremap put the page at `addr` of its old range, if it carried it (what a shrink cut off it did not). */
function carriedTo(r: OpRecord, addr: number): number | undefined {
  if (r.kind !== 'mremap' || r.result < 0 || r.addr === undefined || r.newAddr === undefined || r.newAddr === r.addr) return undefined;
  const i = addr - r.addr;
  return i >= 0 && i < r.pages! && i < r.op.pages ? r.newAddr + i : undefined;
}

interface Found {
  readonly r: OpRecord;
  readonly certain: boolean;
}

/** A stay before its certainty is known, and the moves out of it. */
interface Node {
  stay: Omit<PinStay, 'sureFrom'>;
  /** Moves that may have carried the page on: to which node, and whether certainly (the first detach of a certain stay, and the only one that may have been). */
  out: { to: Node; certain: boolean }[];
  sure: boolean;
}

/** The ops that may take `addr` away from a page that came there at [from, arrived] (not the move that brought it). */
function detachesOf(recs: readonly OpRecord[], as: number, addr: number, from: number, arrived: number, via: OpRecord | undefined): Found[] {
  const found: Found[] = [];
  for (const r of recs) {
    // A detaching op counts if it had not finished before the page may have come.
    if (r.as !== as || r.end <= from || r === via) continue;
    const d = detaches(r, addr);
    // One that overlapped the arrival (the pin, the move) may have detached
    // the address before the page came (a pin is then of the page mapped after it).
    if (d) found.push({ r, certain: d === 'yes' && r.start >= arrived });
  }
  return found;
}

/** The stays of pin `p`, as a graph of nodes keyed by (address, the mremap that brought the page). */
function stayGraph(recs: readonly OpRecord[], p: OpRecord & { readonly addr: number }): Node[] {
  const nodes = new Map<string, Node>();
  const order: Node[] = [];
  const node = (addr: number, from: number, arrived: number, via: RecordOf<'mremap'> | undefined): Node => {
    const key = `${addr}@${via ? `${via.thread}.${via.index}` : ''}`;
    let n = nodes.get(key);
    if (n) return n;
    const found = detachesOf(recs, p.as, addr, from, arrived, via);
    let detachStart = Infinity;
    let goneBy = Infinity;
    for (const f of found) {
      detachStart = Math.min(detachStart, f.r.start);
      if (f.certain) goneBy = Math.min(goneBy, f.r.end);
    }
    // Whichever op detached it first, it had begun before goneBy (none: never detached).
    const first = found.filter((f) => f.r.start < goneBy);
    const detachEnd = first.length ? Math.max(...first.map((f) => f.r.end)) : Infinity;
    n = { stay: { addr, from, arrived, detachStart, goneBy, detachEnd, via }, out: [], sure: false };
    nodes.set(key, n);
    order.push(n);
    for (const f of first) {
      const to = carriedTo(f.r, addr);
      if (to === undefined || f.r.kind !== 'mremap') continue;
      n.out.push({ to: node(to, f.r.start, f.r.end, f.r), certain: f.certain && first.length === 1 });
    }
    return n;
  };
  node(p.addr, p.start, p.end, undefined).sure = true;
  return order;
}

/** Every successful pin of the run, with where its page may be mapped and when. */
export function pinLives(recs: readonly OpRecord[]): Map<number, PinLife> {
  const lives = new Map<number, PinLife>();
  for (const p of recs) {
    if (p.kind !== 'pin' || p.result < 0 || p.pinId === undefined || p.addr === undefined) continue;
    const order = stayGraph(recs, p as OpRecord & { readonly addr: number });
    // A certain move starts after the stay it leaves came: by start, sources come before their targets.
    const byFrom = order.map((n, i) => ({ n, i })).sort((a, b) => a.n.stay.from - b.n.stay.from || a.i - b.i);
    for (const { n } of byFrom) if (n.sure) for (const o of n.out) if (o.certain) o.to.sure = true;
    const stays = order.map((n, i): PinStay => ({ ...n.stay, sureFrom: !n.sure ? Infinity : i === 0 ? -Infinity : n.stay.arrived }));
    lives.set(p.pinId, { id: p.pinId, as: p.as, pinned: p, stays });
  }
  return lives;
}

/** Was this access through the pin certainly to the page while it was mapped at this stay's address? */
export function coherentAccess(stay: PinStay, r: OpRecord): boolean {
  return r.start >= stay.sureFrom && r.end <= stay.detachStart;
}

/** Might this access through the pin have gone to the page while it was mapped at this stay's address? */
export function mayBeCoherent(stay: PinStay, r: OpRecord): boolean {
  return r.end > stay.from && r.start < stay.goneBy;
}
