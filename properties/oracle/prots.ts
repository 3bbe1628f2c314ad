import type { OpRecord, Range, RecordOf } from '../../engine/program/history.ts';
import type { Prot } from '../../engine/program/ops.ts';
import { CopyDuring, forkCopy, forked, moved, type Forked, type Moved } from './copy.ts';
import type { Derived } from './fixpoint.ts';
import { Timelines, UNMAPPED, event, initially, type TimelineEvent } from './timeline.ts';

/*
 * Access rights for the oracle: per (address space, page), the protection
 * the page was mapped with over time (PROT_READ | PROT_WRITE bits, or
 * UNMAPPED). mmap, hugetlbfs mmap and mprotect set it, munmap clears it,
 * exec maps the new stack read-write, a stack that an access grew maps the
 * new pages as the stack's lowest page was, a fork's child starts with what its
 * parent's page had during the fork (or nothing, for a DONTFORK page), and
 * mremap moves it. A failed munmap, mprotect or mremap may have done part of
 * its work: it adds what it would have set as a weak event.
 */

export const P_READ = 1;
export const P_WRITE = 2;

export function protValue(p: Prot): number {
  return p === 'rw' ? P_READ | P_WRITE : p === 'r' ? P_READ : 0;
}

/** Protection timelines: every page starts out unmapped, so a weak event alone leaves that possible. */
export function newProtTimelines(): Timelines {
  return new Timelines(initially(UNMAPPED));
}

/** One event for `n` pages from `from`: the pages share it (only a copy's own events ever grow). */
function setRange(prots: Timelines, as: number, from: number | undefined, n: number | undefined, e: TimelineEvent): void {
  if (from === undefined || n === undefined) return;
  for (let i = 0; i < n; i++) prots.get(as, from + i).add(e);
}

/**
 * The events `rec` sets directly; a fork or a successful mremap gives a
 * derived one. `mayDontfork(fork, page)`: might the parent's page have been
 * DONTFORK during the fork (undefined: no DONTFORK anywhere in the run)?
 */
export function protEvents(rec: OpRecord, prots: Timelines, mayDontfork?: (fork: RecordOf<'fork'>, page: number) => boolean): Derived | undefined {
  const { as } = rec;
  // A failed access may have grown a stack too (the fault's allocation failed after).
  if ((rec.kind === 'read' || rec.kind === 'write') && rec.grown) return grownProts(rec, rec.grown, prots);
  if (rec.result < 0) {
    // What the op may have done before it failed (a hole, a split it could not make).
    if (rec.kind === 'mprotect') setRange(prots, as, rec.addr, rec.pages, event(rec, [protValue(rec.op.prot)], true));
    else if (rec.kind === 'munmap' || rec.kind === 'mremap') setRange(prots, as, rec.addr, rec.pages, event(rec, [UNMAPPED], true));
    // MREMAP_FIXED unmaps its target first, whatever happens next.
    if (rec.kind === 'mremap') setRange(prots, as, rec.fixedAddr, rec.op.pages, event(rec, [UNMAPPED], true));
    return undefined;
  }
  switch (rec.kind) {
    case 'mmap':
    case 'hugetlbMmap':
    case 'memfdMmap':
    case 'mprotect':
      setRange(prots, as, rec.addr, rec.pages, event(rec, [protValue(rec.op.prot)]));
      return undefined;
    case 'munmap':
      setRange(prots, as, rec.addr, rec.pages, event(rec, [UNMAPPED]));
      return undefined;
    case 'exec':
      // VM_STACK_FLAGS: the new stack is read-write.
      if (rec.addr !== undefined) setRange(prots, rec.newAs, rec.addr, rec.pages, event(rec, [P_READ | P_WRITE]));
      return undefined;
    case 'mremap':
      return moved(rec) ? mremapProts(rec, prots) : undefined;
    case 'fork':
      return forked(rec) ? forkProts(rec, prots, mayDontfork) : undefined;
    default:
      return undefined;
  }
}

/** Stack growth: the new pages take the VMA's protection, that of its old lowest page while the access ran. */
function grownProts(rec: OpRecord, grown: Range, prots: Timelines): Derived {
  const copy = new CopyDuring(rec);
  const from = grown.addr + grown.pages;
  for (let a = grown.addr; a < from; a++) copy.link(prots.get(rec.as, from), prots.get(rec.as, a), from);
  return copy;
}

/** mremap: the old pages' protection appears at the new address; grown pages take the VMA's, its last old page's. */
function mremapProts(rec: Moved, prots: Timelines): Derived {
  const { as, addr: oldAddr, pages: oldPages, newAddr } = rec;
  // What the old page had while the mremap ran, not the mremap's own unmapping of it.
  const copy = new CopyDuring(rec, undefined, true);
  for (let i = 0; i < rec.op.pages; i++) {
    const to = newAddr + i;
    if (i < oldPages && oldAddr + i === to) continue; // unchanged in place
    const from = i < oldPages ? oldAddr + i : oldAddr + oldPages - 1;
    copy.link(prots.get(as, from), prots.get(as, to), from);
  }
  const unmapped = event(rec, [UNMAPPED]);
  // MREMAP_DONTUNMAP keeps the old range mapped as it was.
  if (!rec.op.dontunmap) for (let a = oldAddr; a < oldAddr + oldPages; a++) if (a < newAddr || a >= newAddr + rec.op.pages) prots.get(as, a).add(unmapped);
  return copy;
}

/** fork: the child's pages have the parent's protection during the fork; a DONTFORK page is not there at all. */
function forkProts(rec: Forked, prots: Timelines, mayDontfork: ((fork: RecordOf<'fork'>, page: number) => boolean) | undefined): Derived {
  if (!mayDontfork) return forkCopy(rec, prots);
  return forkCopy(rec, prots, (seen, page) => (seen.has(UNMAPPED) || !mayDontfork(rec, page) ? seen : seen.add(UNMAPPED)));
}

/** Could the page grant `need` (P_READ or P_WRITE) at some point during [s, e]? */
export function mayAllow(prots: Timelines, as: number, page: number, need: number, s: number, e: number): { ok: boolean; possible: Set<number> } {
  const possible = prots.get(as, page).possibleDuring(s, e);
  for (const v of possible) if (v !== UNMAPPED && v & need) return { ok: true, possible };
  return { ok: false, possible };
}

/** Did the page certainly grant `need` for the whole of [s, e]? */
export function mustAllow(possible: Set<number>, need: number): boolean {
  for (const v of possible) if (v === UNMAPPED || !(v & need)) return false;
  return true;
}

/** A protection set for messages: {rw, r, none, unmapped}. */
export function formatProts(possible: Set<number>): string {
  const name = (v: number): string => (v === UNMAPPED ? 'unmapped' : v & P_WRITE ? 'rw' : v & P_READ ? 'r' : 'none');
  return `{${[...possible].sort((a, b) => b - a).map(name).join(', ')}}`;
}
