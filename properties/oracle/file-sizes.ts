import { HPAGE_NR_PAGES, HUGETLBFS_MAX_HPAGES, MEMFD_MAX_PAGES } from '../../engine/program/abi.ts';
import type { OpRecord } from '../../engine/program/history.ts';
import { cellsOf } from './cells.ts';
import { MEMFD_FILE, NOT_FILE, PRIVATE_FILE, SHARED_ANON_FILE, bindingFile, bindingsDuring, memfdFile, rawBindingsDuring } from './files.ts';
import { Timelines, UNMAPPED, event, initially } from './timeline.ts';

/*
 * What a file's size and its removals do to what the oracle allows: hole
 * punch and truncate zero file pages, memfd sizes over time bound which
 * pages an access may succeed on, and truncate takes private copies too.
 * (The bindings of addresses to file pages are files.ts.)
 */

/**
 * Hole punch and truncate zero the file pages they remove: a later fault
 * reads a fresh zeroed page (truncate's pages beyond the new size cannot be
 * read until the file grows again, and then they are zero).
 */
export function fileEvents(rec: OpRecord, files: Timelines): void {
  const { op } = rec;
  let from: number;
  let to: number;
  if (op.op === 'memfdPunch' || op.op === 'memfdTruncate') {
    if (rec.result < 0) return;
    const zero = event(rec, [0]);
    const [lo, hi] = op.op === 'memfdPunch' ? [op.page, op.page + op.pages] : [op.pages, MEMFD_MAX_PAGES];
    for (let p = lo; p < Math.min(hi, MEMFD_MAX_PAGES); p++) for (const c of cellsOf(p)) files.get(memfdFile(op.file, true), c).add(zero);
    return;
  }
  if (op.op === 'hugetlbPunch') {
    from = op.hpage;
    to = op.hpage + op.hpages;
  } else if (op.op === 'hugetlbTruncate') {
    from = op.hpages;
    to = HUGETLBFS_MAX_HPAGES;
  } else return;
  if (rec.result < 0) return;
  const file = op.file;
  const zero = event(rec, [0]);
  for (let hp = from; hp < Math.min(to, HUGETLBFS_MAX_HPAGES); hp++) {
    for (let p = hp * HPAGE_NR_PAGES; p < (hp + 1) * HPAGE_NR_PAGES; p++) for (const c of cellsOf(p)) files.get(file, c).add(zero);
  }
}

/**
 * memfd sizes: per memfd, its i_size in pages over time (memfd_create and
 * ftruncate set it; nothing else does: stores through a mapping never
 * extend a file). Undefined when no memfd was mapped.
 */
export function buildSizes(recs: readonly OpRecord[]): Timelines | undefined {
  if (!recs.some((r) => r.kind === 'memfdMmap' && r.result >= 0)) return undefined;
  const sizes = new Timelines(initially(0));
  for (const rec of recs) {
    if (rec.result < 0) continue;
    if (rec.kind === 'memfdCreate' || rec.kind === 'memfdTruncate') sizes.get(rec.op.file, 0).add(event(rec, [rec.op.pages]));
  }
  return sizes;
}

/**
 * Might (as, page) be something an access may succeed on during [s, e]: not
 * a memfd page, or one within its file's size at some point? A page beyond
 * the end of a memfd faults (SIGBUS), in a private mapping too: truncate
 * zaps the private copies of what it removes.
 */
export function mayBeWithinFile(bindings: Timelines | undefined, sizes: Timelines | undefined, as: number, page: number, s: number, e: number): { ok: boolean; sizes: Set<number> } {
  const seen = new Set<number>();
  if (!bindings || !sizes) return { ok: true, sizes: seen };
  const b = rawBindingsDuring(bindings, as, page, s, e);
  // Nothing mapped, beside a file page that may have been: the access could
  // not have succeeded through the nothing (a stack it grew there is bound
  // anonymous). Nothing mapped alone: the protections judge it.
  if (b.has(UNMAPPED) && b.size === 1) return { ok: true, sizes: seen };
  for (const x of b) {
    if (x === UNMAPPED) continue;
    if (x === NOT_FILE) return { ok: true, sizes: seen };
    const f = bindingFile(x);
    // hugetlbfs, and shared anonymous files (as big as their one mapping): not judged here
    if (f.file < MEMFD_FILE || f.file >= SHARED_ANON_FILE) return { ok: true, sizes: seen };
    const memfd = f.file >= PRIVATE_FILE ? f.file - PRIVATE_FILE : f.file - MEMFD_FILE;
    for (const size of sizes.get(memfd, 0).possibleDuring(s, e)) {
      seen.add(size);
      if (size > f.page) return { ok: true, sizes: seen };
    }
  }
  return { ok: false, sizes: seen };
}

/**
 * Truncate takes the private copies of the pages it removes too
 * (unmap_mapping_range with even_cows): a process's own writes to such a
 * page are gone, and it reads the file again (zero, unless written since).
 */
export function truncateCopies(rec: OpRecord, bindings: Timelines | undefined, content: Timelines): void {
  if (rec.kind !== 'memfdTruncate' || rec.result < 0 || !bindings) return;
  const file = PRIVATE_FILE + rec.op.file;
  for (const as of bindings.spaceIds()) {
    for (const addr of bindings.addresses(as)) {
      const b = bindingsDuring(bindings, as, addr, rec.start, rec.end);
      let hit = false;
      for (const x of b) {
        if (x === NOT_FILE) continue;
        const f = bindingFile(x);
        if (f.file === file && f.page >= rec.op.pages) hit = true;
      }
      if (!hit) continue;
      const zero = event(rec, [0], b.size > 1);
      for (const c of cellsOf(addr)) content.get(as, c).add(zero);
    }
  }
}
