import type { OpRecord, RecordOf } from '../../engine/program/history.ts';
import type { Op, Prot } from '../../engine/program/ops.ts';
import { Timelines, UNMAPPED, type TimelineEvent } from './timeline.ts';

/*
 * Access rights for the oracle: per (address space, page), the protection
 * the page was mapped with over time (PROT_READ | PROT_WRITE bits, or
 * UNMAPPED). mmap, hugetlbfs mmap and mprotect set it, munmap clears it,
 * exec maps the new stack read-write, a fork's child starts with what its
 * parent's page had during the fork (or nothing, for a DONTFORK page), and
 * mremap moves it. A failed munmap, mprotect or mremap may have done part of
 * its work: it adds what it would have set as a weak event.
 */

export const P_READ = 1;
export const P_WRITE = 2;

export function protValue(p: Prot): number {
  return p === 'rw' ? P_READ | P_WRITE : p === 'r' ? P_READ : 0;
}

type MakeEvent = (rec: OpRecord, values: Iterable<number>) => TimelineEvent;

/** Protection timelines: every page starts out unmapped, so a weak event alone leaves that possible. */
export function newProtTimelines(): Timelines {
  return new Timelines({ start: -2, end: -1, values: new Set([UNMAPPED]) });
}

/** A derived event, recomputed with the oracle's others until nothing changes. */
export interface ProtDerived {
  apply(): boolean;
}

function addAll(into: Set<number>, from: Iterable<number>): boolean {
  const n = into.size;
  for (const v of from) into.add(v);
  return into.size !== n;
}

/** One event for `n` pages from `from`: the pages share it (only derived events are ever changed). */
function setRange(prots: Timelines, as: number, from: number | undefined, n: number | undefined, e: TimelineEvent): void {
  if (from === undefined || n === undefined) return;
  for (let i = 0; i < n; i++) prots.get(as, from + i).add(e);
}

/**
 * The events `rec` sets directly; a fork or a successful mremap gives a
 * derived one. `mayDontfork(fork, page)`: might the parent's page have been
 * DONTFORK during the fork (undefined: no DONTFORK anywhere in the run)?
 */
export function protEvents(rec: OpRecord, prots: Timelines, ev: MakeEvent, mayDontfork?: (fork: RecordOf<'fork'>, page: number) => boolean): ProtDerived | undefined {
  const { as } = rec;
  if (rec.result < 0) {
    // What the op may have done before it failed (a hole, a split it could not make).
    const weak = (value: number): TimelineEvent => ({ start: rec.start, end: rec.end, values: new Set([value]), by: rec, weak: true });
    if (rec.kind === 'mprotect') setRange(prots, as, rec.addr, rec.pages, weak(protValue(rec.op.prot)));
    else if (rec.kind === 'munmap' || rec.kind === 'mremap') setRange(prots, as, rec.addr, rec.pages, weak(UNMAPPED));
    // MREMAP_FIXED unmaps its target first, whatever happens next.
    if (rec.kind === 'mremap') setRange(prots, as, rec.fixedAddr, rec.op.pages, weak(UNMAPPED));
    return undefined;
  }
  switch (rec.kind) {
    case 'mmap':
    case 'hugetlbMmap':
    case 'mprotect':
      setRange(prots, as, rec.addr, rec.pages, ev(rec, [protValue(rec.op.prot)]));
      return undefined;
    case 'munmap':
      setRange(prots, as, rec.addr, rec.pages, ev(rec, [UNMAPPED]));
      return undefined;
    case 'exec':
      // VM_STACK_FLAGS: the new stack is read-write.
      if (rec.addr !== undefined) setRange(prots, rec.newAs, rec.addr, rec.pages, ev(rec, [P_READ | P_WRITE]));
      return undefined;
    case 'mremap':
      return mremapProts(rec, rec.op, prots, ev);
    case 'fork':
      return rec.newAs === undefined ? undefined : forkProts(rec, prots, ev, mayDontfork);
    default:
      return undefined;
  }
}

/** mremap: the old pages' protection appears at the new address; grown pages take the VMA's, its last old page's. */
function mremapProts(rec: RecordOf<'mremap'>, op: Extract<Op, { op: 'mremap' }>, prots: Timelines, ev: MakeEvent): ProtDerived {
  const oldAddr = rec.addr!;
  const oldPages = rec.pages!;
  const newAddr = rec.newAddr!;
  const targets: { from: number; e: TimelineEvent }[] = [];
  for (let i = 0; i < op.pages; i++) {
    const to = newAddr + i;
    if (i < oldPages && oldAddr + i === to) continue; // unchanged in place
    const e = ev(rec, []);
    prots.get(rec.as, to).add(e);
    targets.push({ from: i < oldPages ? oldAddr + i : oldAddr + oldPages - 1, e });
  }
  const unmapped = ev(rec, [UNMAPPED]);
  for (let i = 0; i < oldPages; i++) {
    const a = oldAddr + i;
    // MREMAP_DONTUNMAP keeps the old range mapped as it was.
    if (!op.dontunmap && (a < newAddr || a >= newAddr + op.pages)) prots.get(rec.as, a).add(unmapped);
  }
  return {
    apply(): boolean {
      let changed = false;
      // What the old page had while the mremap ran, not the mremap's own unmapping of it.
      for (const t of targets) if (addAll(t.e.values, prots.get(rec.as, t.from).possibleDuring(rec.start, rec.end, undefined, rec))) changed = true;
      return changed;
    },
  };
}

/** fork: the child's pages have the parent's protection during the fork; a DONTFORK page is not there at all. */
function forkProts(rec: RecordOf<'fork'>, prots: Timelines, ev: MakeEvent, mayDontfork: ((fork: RecordOf<'fork'>, page: number) => boolean) | undefined): ProtDerived {
  const child = rec.newAs!;
  const made = new Map<number, TimelineEvent>();
  return {
    apply(): boolean {
      let changed = false;
      for (const page of prots.addresses(rec.as)) {
        let e = made.get(page);
        if (!e) {
          made.set(page, (e = ev(rec, [])));
          prots.get(child, page).add(e);
          changed = true;
        }
        if (addAll(e.values, prots.get(rec.as, page).possibleDuring(rec.start, rec.end))) changed = true;
        if (mayDontfork && !e.values.has(UNMAPPED) && mayDontfork(rec, page)) {
          e.values.add(UNMAPPED);
          changed = true;
        }
      }
      return changed;
    },
  };
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
