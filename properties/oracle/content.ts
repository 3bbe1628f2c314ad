import type { Growth, OpRecord } from '../../engine/program/history.ts';
import { WORDS_PER_PAGE } from '../../engine/program/abi.ts';
import { DONTFORK, WIPE, flagsDuring, knownFlags, madviseAttrs } from './attrs.ts';
import { cell, pageOf } from './cells.ts';
import { CopyDuring, addAll, forkCopy, forked, moved, type Forked, type Moved } from './copy.ts';
import type { Derived } from './fixpoint.ts';
import { writeTargets } from './files.ts';
import { coherentAccess, mayBeCoherent, type PinLife } from './pins.ts';
import { UNMAPPED, event, type Timeline, type TimelineEvent, type Timelines } from './timeline.ts';

/*
 * The contents of anonymous memory per (address space, cell), and the fork
 * flags per page, from one op record. Writes (including a device's writes
 * through a pin, wherever its page is mapped: pins.ts) set values; mmap,
 * DONTNEED and exec's arguments set known values, MADV_FREE a possible zero
 * (a lazyfree page reads back zero once reclaim discarded it, until it is
 * written again: a weak event, superseded by the next write); munmap unmaps; fork and
 * mremap copy what their source could hold while they ran; an access that
 * grew a stack maps zeroed pages with the stack's flags.
 */

export interface ContentTimelines {
  readonly content: Timelines;
  readonly files: Timelines;
  readonly bindings: Timelines | undefined;
  readonly attrs: Timelines;
  readonly pins: Map<number, PinLife>;
}

/** Add `e` to every cell of pages [addr, addr+pages) (one event: only copies' own events ever grow). */
function setCells(content: Timelines, as: number, addr: number, pages: number, e: TimelineEvent): void {
  for (let a = addr; a < addr + pages; a++) for (let w = 0; w < WORDS_PER_PAGE; w++) content.get(as, cell(a, w)).add(e);
}

function setPages(attrs: Timelines, as: number, addr: number, pages: number, e: TimelineEvent): void {
  for (let a = addr; a < addr + pages; a++) attrs.get(as, a).add(e);
}

/**
 * The events of `rec`, and the derived step it needs, if any. A failed
 * madvise may have advised part of its range (`maybe`): its events are weak.
 */
export function contentEvents(rec: OpRecord, t: ContentTimelines, maybe: boolean): Derived[] {
  const { content, attrs } = t;
  const as = rec.as;
  switch (rec.kind) {
    case 'write': {
      if (rec.addr === undefined) return [];
      const grown = rec.grown ? stackGrowth(rec, rec.grown, content, attrs) : [];
      // Into the address space's own memory, or a file page shared with others.
      const to = writeTargets(t.bindings, rec, rec.op.word);
      const ev = event(rec, [rec.value], to.weak);
      // Into a page its own fault grew: the store comes after the growth.
      const e = rec.grown && rec.addr >= rec.grown.addr && rec.addr < rec.grown.addr + rec.grown.pages ? { ...ev, start: rec.grown.step } : ev;
      if (to.anon) content.get(as, cell(rec.addr, rec.op.word)).add(e);
      for (const f of to.files) t.files.get(f.file, f.cell).add(e);
      return grown;
    }
    case 'read':
      return rec.grown ? stackGrowth(rec, rec.grown, content, attrs) : [];
    case 'pinWrite': {
      const life = rec.addr === undefined ? undefined : t.pins.get(rec.pinId);
      if (!life || rec.addr === undefined) return [];
      // Into the shared file page that was pinned, perhaps (it may have left the file since): the
      // file page mapped while the pin was taken, whatever the process mapped there since.
      const pinned = { ...rec, start: life.pinned.start, end: life.pinned.end } as never;
      for (const f of writeTargets(t.bindings, pinned, rec.op.word).files) t.files.get(f.file, f.cell).add(event(rec, [rec.value!], true));
      // Into the pinned page wherever it is mapped: certainly where it
      // certainly is; or perhaps where it may be (a move or a detach
      // overlapped: a concurrent read may see the value, and a move may carry
      // it along), but no longer there once the page has certainly left.
      for (const stay of life.stays) {
        const at = content.get(as, cell(stay.addr, rec.op.word));
        if (coherentAccess(stay, rec)) at.add(event(rec, [rec.value!]));
        else if (mayBeCoherent(stay, rec)) at.add(event(rec, [rec.value!], true, stay.goneBy === Infinity ? undefined : stay.goneBy));
      }
      return [];
    }
    case 'mmap':
    case 'memfdMmap':
      // A memfd's private copies start empty of the process's own writes.
      if (rec.addr === undefined) return [];
      setCells(content, as, rec.addr, rec.pages!, event(rec, [0]));
      setPages(attrs, as, rec.addr, rec.pages!, event(rec, [0]));
      return [];
    case 'munmap':
      if (rec.addr === undefined) return [];
      setCells(content, as, rec.addr, rec.pages, event(rec, [UNMAPPED]));
      setPages(attrs, as, rec.addr, rec.pages, event(rec, [0]));
      return [];
    case 'madvise':
      if (rec.addr === undefined) return [];
      // MADV_FREE: until the next write, reclaim may discard the (lazyfree) page: zero, or what it held.
      if (rec.op.advice === 'FREE') {
        setCells(content, as, rec.addr, rec.pages, event(rec, [0], true));
        return [];
      }
      if (rec.op.advice !== 'DONTNEED') return [madviseAttrs(rec, attrs, maybe)];
      setCells(content, as, rec.addr, rec.pages, event(rec, [0], maybe));
      return [];
    case 'exec': {
      if (rec.addr === undefined) return [];
      const n = rec.pages;
      const zero = event(rec, [0]);
      for (let j = 0; j < n; j++) {
        // argv[i] is on the i-th page from the top.
        content.get(rec.newAs, cell(rec.addr + j, 0)).add(event(rec, [rec.argv[n - 1 - j]!]));
        for (let w = 1; w < WORDS_PER_PAGE; w++) content.get(rec.newAs, cell(rec.addr + j, w)).add(zero);
      }
      return [];
    }
    case 'mremap':
      return moved(rec) ? mremapMove(rec, content, attrs) : [];
    case 'fork':
      return forked(rec) ? forkContent(rec, content, attrs) : [];
    default:
      return [];
  }
}

/**
 * Stack growth (expand_downwards) in an access: the new pages read zero and
 * have the stack's flags (its old lowest page's), from the step it grew at:
 * its zero is an event that ends there, and the access's own store (which
 * then starts there) supersedes it.
 */
export function stackGrowth(rec: OpRecord, grown: Growth, content: Timelines, attrs: Timelines): Derived[] {
  const zero: TimelineEvent = { start: grown.step - 0.5, end: grown.step, values: new Set([0]), by: rec };
  setCells(content, rec.as, grown.addr, grown.pages, zero);
  const flags = new CopyDuring(rec, knownFlags);
  const from = grown.addr + grown.pages;
  for (let a = grown.addr; a < from; a++) flags.link(attrs.get(rec.as, from), attrs.get(rec.as, a), from);
  return [flags];
}

/** mremap: the old range's contents (and flags) appear at the new address; grown pages are zero. */
function mremapMove(rec: Moved, content: Timelines, attrs: Timelines): Derived[] {
  const { as, addr: oldAddr, pages: oldPages, newAddr } = rec;
  const cells = new CopyDuring(rec);
  const flags = new CopyDuring(rec, knownFlags);
  const zero = event(rec, [0]);
  for (let i = 0; i < rec.op.pages; i++) {
    const to = newAddr + i;
    if (i < oldPages && oldAddr + i === to) continue; // unchanged in place
    for (let w = 0; w < WORDS_PER_PAGE; w++) {
      const dst: Timeline = content.get(as, cell(to, w));
      if (i < oldPages) cells.link(content.get(as, cell(oldAddr + i, w)), dst, cell(oldAddr + i, w));
      else dst.add(zero);
    }
    // Grown pages take the VMA's flags: those of its last old page.
    const src = i < oldPages ? oldAddr + i : oldAddr + oldPages - 1;
    flags.link(attrs.get(as, src), attrs.get(as, to), src);
  }
  // What no longer belongs to the mapping is unmapped; with MREMAP_DONTUNMAP
  // it stays mapped, with its flags, and empty (zero-fill).
  const gone = event(rec, [rec.op.dontunmap ? 0 : UNMAPPED]);
  const reset = event(rec, [0]);
  for (let a = oldAddr; a < oldAddr + oldPages; a++) {
    if (a >= newAddr && a < newAddr + rec.op.pages) continue;
    setCells(content, as, a, 1, gone);
    if (!rec.op.dontunmap) attrs.get(as, a).add(reset);
  }
  return [cells, flags];
}

/** fork: the child's cells hold what the parent's held at some point during the fork, unless the page was WIPEONFORK or DONTFORK. */
function forkContent(rec: Forked, content: Timelines, attrs: Timelines): Derived[] {
  const throughFlags = (seen: Set<number>, c: number): Set<number> => {
    const out = new Set<number>();
    for (const f of flagsDuring(attrs, rec.as, pageOf(c), rec.start, rec.end)) {
      if (f & DONTFORK) out.add(UNMAPPED);
      else if (f & WIPE) out.add(0);
      else addAll(out, seen);
    }
    return out;
  };
  return [forkCopy(rec, content, throughFlags), forkCopy(rec, attrs, (seen) => [...knownFlags(seen)].map((f) => f & ~DONTFORK))];
}
