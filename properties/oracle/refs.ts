import type { OpRecord, RecordOf } from '../../engine/program/history.ts';
import { possibleRead } from './files.ts';
import type { Timelines } from './timeline.ts';
import { UNMAPPED } from './timeline.ts';

/*
 * What a plain page reference (FOLL_GET, vmsplice) may read. The reference
 * is to the page mapped at the address when get ran; while that page stays
 * mapped there it sees what the address holds; after a COW (a fork, then a
 * write) or an unmap it keeps the old page, which nobody can write any more
 * (a COW copies a page someone else holds a reference to). So its reader
 * sees a value the getter's address held at some time from the get to the
 * read, and never another process's value (CVE-2020-29374: a reused page
 * leaked the parent's later writes to the child's vmsplice reference).
 * Looser than Linux in one way: once stale, a later value of the address is
 * still accepted. Not judged: a reference whose address its process moved
 * (mremap) meanwhile, since writes at the new address reach the same page.
 */

type GetRead = RecordOf<'getRead'> & { readonly addr: number; readonly refId: number; readonly value: number };

export interface RefVerdict {
  readonly rec: GetRead;
  readonly got: RecordOf<'get'>;
  readonly allowed: Set<number>;
}

export function isRefRead(rec: OpRecord): rec is GetRead {
  return rec.kind === 'getRead' && rec.result >= 0 && rec.refId !== undefined && rec.value !== undefined;
}

/** Did the process move `addr` (mremap of a range holding it) during [s, e]? */
function movedDuring(recs: readonly OpRecord[], as: number, addr: number, s: number, e: number): boolean {
  return recs.some((r) => r.kind === 'mremap' && r.as === as && r.addr !== undefined && addr >= r.addr && addr < r.addr + r.pages && r.start < e && r.end > s);
}

/** The reference reads that returned a value their address never held while they were held. */
export function badRefReads(recs: readonly OpRecord[], content: Timelines, files: Timelines, bindings: Timelines | undefined): RefVerdict[] {
  const gets = new Map<number, RecordOf<'get'>>();
  for (const r of recs) if (r.kind === 'get' && r.refId !== undefined) gets.set(r.refId, r);
  const bad: RefVerdict[] = [];
  for (const rec of recs) {
    if (!isRefRead(rec)) continue;
    const got = gets.get(rec.refId);
    if (!got || got.addr === undefined || movedDuring(recs, got.as, got.addr, got.start, rec.end)) continue;
    const allowed = possibleRead(content, files, bindings, got.as, got.addr, rec.op.word, got.start, rec.end);
    if (allowed.has(rec.value)) continue;
    allowed.delete(UNMAPPED);
    bad.push({ rec, got, allowed });
  }
  return bad;
}
