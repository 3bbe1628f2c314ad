import { HPAGE_NR_PAGES, HUGETLBFS_MAX_HPAGES, MEMFD_MAX_PAGES } from '../../engine/program/abi.ts';
import type { OpRecord, Range, RecordOf } from '../../engine/program/history.ts';
import { cell, cellsOf } from './cells.ts';
import { forkCopy, forked } from './copy.ts';
import { fixpoint, type Derived } from './fixpoint.ts';
import { Timelines, UNMAPPED, event, initially } from './timeline.ts';

/*
 * Shared file mappings for the oracle. What a process reads at an address
 * depends on what is mapped there: its own anonymous memory, keyed by
 * (address space, address, word) as before, or a page of a hugetlbfs file,
 * keyed by (file, file page, word) and so shared by every process mapping
 * it, kept after munmap, zeroed by hole punch and truncate. A binding
 * timeline per (address space, page) says which it is, over time.
 *
 * memfd files are the oracle's files MEMFD_FILE + f. A MAP_PRIVATE mapping
 * of one binds its pages to PRIVATE_FILE + f: a read there sees the file
 * until the process writes the page (its COW), and then its own copy, which
 * began as the file's page at some time since the mapping: it may return
 * what the file held at any time up to the read, or what the process itself
 * wrote there (its anonymous cells); writes go to those alone.
 */

/** The binding of an address to anonymous memory (or to nothing). */
export const NOT_FILE = 0;
const FILE_SPAN = 1 << 16;

/** The oracle's file number of memfd `f`, and of a MAP_PRIVATE view of it. */
export const MEMFD_FILE = 256;
const PRIVATE_FILE = 512;

export function memfdFile(f: number, shared: boolean): number {
  return (shared ? MEMFD_FILE : PRIVATE_FILE) + f;
}

/** The binding of an address to page `page` of file `file`. */
export function fileBinding(file: number, page: number): number {
  return 1 + file * FILE_SPAN + page;
}

function bindingFile(b: number): { file: number; page: number } {
  return { file: Math.floor((b - 1) / FILE_SPAN), page: (b - 1) % FILE_SPAN };
}

/** File contents: every file page reads zero until something is written (files are never removed). */
export function newFileTimelines(): Timelines {
  return new Timelines(initially(0));
}

/** A binding as a read or a copy sees it: unmapped reads as anonymous (the access then fails anyway). */
function anonIfUnmapped(b: Set<number>): Set<number> {
  if (b.delete(UNMAPPED)) b.add(NOT_FILE);
  return b;
}

/** What the address may be bound to during [s, e]: NOT_FILE and/or file pages. */
function bindingsDuring(bindings: Timelines | undefined, as: number, page: number, s: number, e: number): Set<number> {
  if (!bindings) return new Set([NOT_FILE]);
  return anonIfUnmapped(bindings.get(as, page).possibleDuring(s, e));
}

/**
 * The binding timelines: mmap (anonymous), munmap and mremap bind their
 * pages to no file; a hugetlbfs mmap binds its pages to the file's; a fork's
 * child starts with what its parent's pages were bound to during the fork
 * (computed to a fixpoint: the parent may itself be a child). exec starts a
 * new address space, bound to nothing.
 */
export function buildBindings(recs: readonly OpRecord[]): Timelines | undefined {
  // No file was ever mapped: every address is anonymous memory or nothing, and reads go to `content` alone.
  if (!recs.some((r) => (r.kind === 'hugetlbMmap' || r.kind === 'memfdMmap') && r.result >= 0)) return undefined;
  const bindings = new Timelines();
  const forks: Derived[] = [];
  for (const rec of recs) {
    if (rec.result < 0) continue;
    const { as } = rec;
    const bind = (from: number, n: number, value: (i: number) => number): void => {
      for (let i = 0; i < n; i++) bindings.get(as, from + i).add(event(rec, [value(i)]));
    };
    switch (rec.kind) {
      case 'mmap':
      case 'munmap':
        bind(rec.addr!, rec.pages!, () => NOT_FILE);
        break;
      case 'hugetlbMmap': {
        const op = rec.op;
        bind(rec.addr!, rec.pages!, (i) => fileBinding(op.file, op.hpage * HPAGE_NR_PAGES + i));
        break;
      }
      case 'memfdMmap': {
        const op = rec.op;
        bind(rec.addr!, rec.pages!, (i) => fileBinding(memfdFile(op.file, op.shared), op.page + i));
        break;
      }
      case 'mremap':
        // Only anonymous mappings move: the old range and the new both end up anonymous (or unmapped).
        bind(rec.addr!, rec.pages!, () => NOT_FILE);
        bind(rec.newAddr!, rec.op.pages, () => NOT_FILE);
        break;
      case 'fork':
        if (forked(rec)) forks.push(forkCopy(rec, bindings, anonIfUnmapped));
        break;
    }
  }
  fixpoint(forks);
  return bindings;
}

/** Might a hugetlbfs file page be mapped at (as, page) at some point during [s, e]? */
export function mayBeFile(bindings: Timelines | undefined, as: number, page: number, s: number, e: number): boolean {
  for (const b of bindingsDuring(bindings, as, page, s, e)) if (b !== NOT_FILE) return true;
  return false;
}

/**
 * Where a write to (as, addr, word) during [s, e] may have gone: the
 * address space's own cell and/or file cells. When more than one is
 * possible, each gets a weak event (it may not have happened there).
 */
export function writeTargets(bindings: Timelines | undefined, rec: RecordOf<'write'> & Range, word: number): { anon: boolean; files: { file: number; cell: number }[]; weak: boolean } {
  const b = bindingsDuring(bindings, rec.as, rec.addr, rec.start, rec.end);
  const files: { file: number; cell: number }[] = [];
  let anon = false;
  for (const x of b) {
    if (x === NOT_FILE) {
      anon = true;
      continue;
    }
    const f = bindingFile(x);
    // A private mapping's write lands in the process's own copy.
    if (f.file >= PRIVATE_FILE) anon = true;
    else files.push({ file: f.file, cell: cell(f.page, word) });
  }
  return { anon, files, weak: b.size > 1 };
}

/** What a read of (as, addr, word) during [s, e] may return, through whatever was mapped there. */
export function possibleRead(content: Timelines, files: Timelines, bindings: Timelines | undefined, as: number, addr: number, word: number, s: number, e: number): Set<number> {
  const out = new Set<number>();
  for (const b of bindingsDuring(bindings, as, addr, s, e)) {
    if (b === NOT_FILE) content.get(as, cell(addr, word)).possibleDuring(s, e, out);
    else {
      const f = bindingFile(b);
      if (f.file >= PRIVATE_FILE) {
        content.get(as, cell(addr, word)).possibleDuring(s, e, out);
        files.get(f.file - PRIVATE_FILE + MEMFD_FILE, cell(f.page, word)).possibleDuring(0, e, out);
      } else files.get(f.file, cell(f.page, word)).possibleDuring(s, e, out);
    }
  }
  return out;
}

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
  for (const x of bindingsDuring(bindings, as, page, s, e)) {
    if (x === NOT_FILE) return { ok: true, sizes: seen };
    const f = bindingFile(x);
    if (f.file < MEMFD_FILE) return { ok: true, sizes: seen }; // hugetlbfs: not judged here
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
