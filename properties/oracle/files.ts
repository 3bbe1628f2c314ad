import { HPAGE_NR_PAGES } from '../../engine/program/abi.ts';
import type { OpRecord, Range, RecordOf } from '../../engine/program/history.ts';
import { cell } from './cells.ts';
import { forkCopy, forked } from './copy.ts';
import { fixpoint, type Derived } from './fixpoint.ts';
import { Timelines, UNMAPPED, event, initially, type TimelineEvent } from './timeline.ts';

/*
 * Shared file mappings for the oracle. What a process reads at an address
 * depends on what is mapped there: its own anonymous memory, keyed by
 * (address space, address, word) as before, or a page of a hugetlbfs file,
 * keyed by (file, file page, word) and so shared by every process mapping
 * it, kept after munmap, zeroed by hole punch and truncate. A binding
 * timeline per (address space, page) says which it is, over time.
 *
 * A shared anonymous mapping (mmap MAP_SHARED | MAP_ANONYMOUS) is a file of
 * its own, SHARED_ANON_FILE + k for the k-th such mapping of the run, as
 * big as the mapping: forks share it through the bindings they copy, munmap
 * leaves it for nobody, and nothing truncates it.
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
export const PRIVATE_FILE = 512;
/** The oracle's files of shared anonymous mappings (a shmem file each), numbered in record order. */
export const SHARED_ANON_FILE = 1024;

export function memfdFile(f: number, shared: boolean): number {
  return (shared ? MEMFD_FILE : PRIVATE_FILE) + f;
}

/** Is oracle file `file` a MAP_PRIVATE view of a memfd (writes go to the process's own copy)? */
export function isPrivateView(file: number): boolean {
  return file >= PRIVATE_FILE && file < SHARED_ANON_FILE;
}

/** The binding of an address to page `page` of file `file`. */
export function fileBinding(file: number, page: number): number {
  return 1 + file * FILE_SPAN + page;
}

export function bindingFile(b: number): { file: number; page: number } {
  return { file: Math.floor((b - 1) / FILE_SPAN), page: (b - 1) % FILE_SPAN };
}

/** File contents: every file page reads zero until something is written (files are never removed). */
export function newFileTimelines(): Timelines {
  return new Timelines(initially(0));
}

/** A binding as an access sees it: unmapped reads as anonymous (the access then fails anyway). */
function anonIfUnmapped(b: Set<number>): Set<number> {
  if (b.delete(UNMAPPED)) b.add(NOT_FILE);
  return b;
}

/** What the address may be bound to during [s, e]: NOT_FILE and/or file pages. */
export function bindingsDuring(bindings: Timelines | undefined, as: number, page: number, s: number, e: number): Set<number> {
  return anonIfUnmapped(rawBindingsDuring(bindings, as, page, s, e));
}

/** The same, with UNMAPPED kept apart from NOT_FILE: nothing mapped (as munmap and the time before the first mmap leave it). */
export function rawBindingsDuring(bindings: Timelines | undefined, as: number, page: number, s: number, e: number): Set<number> {
  if (!bindings) return new Set([NOT_FILE]);
  return bindings.get(as, page).possibleDuring(s, e);
}

/**
 * The binding timelines: mmap (anonymous, private), mremap and a grown stack
 * bind their pages to no file, munmap to nothing (UNMAPPED); a shared anonymous mmap to its own file's; a hugetlbfs mmap binds its pages to the file's; a fork's
 * child starts with what its parent's pages were bound to during the fork
 * (computed to a fixpoint: the parent may itself be a child). exec starts a
 * new address space, bound to nothing.
 */
export function buildBindings(recs: readonly OpRecord[]): Timelines | undefined {
  // No file was ever mapped: every address is anonymous memory or nothing, and reads go to `content` alone.
  if (!recs.some((r) => (r.kind === 'hugetlbMmap' || r.kind === 'memfdMmap' || (r.kind === 'mmap' && r.op.shared)) && r.result >= 0)) return undefined;
  const bindings = new Timelines();
  const forks: Derived[] = [];
  let sharedAnon = SHARED_ANON_FILE;
  for (const rec of recs) {
    // A stack an access grew (even one that then failed) maps anonymous pages from the step it grew at.
    if ((rec.kind === 'read' || rec.kind === 'write') && rec.grown) {
      const g = rec.grown;
      const grew: TimelineEvent = { start: g.step - 0.5, end: g.step, values: new Set([NOT_FILE]), by: rec };
      for (let i = 0; i < g.pages; i++) bindings.get(rec.as, g.addr + i).add(grew);
    }
    if (rec.result < 0) continue;
    const { as } = rec;
    const bind = (from: number, n: number, value: (i: number) => number): void => {
      for (let i = 0; i < n; i++) bindings.get(as, from + i).add(event(rec, [value(i)]));
    };
    switch (rec.kind) {
      case 'mmap': {
        const file = rec.op.shared ? sharedAnon++ : NOT_FILE;
        bind(rec.addr!, rec.pages!, (i) => (file === NOT_FILE ? NOT_FILE : fileBinding(file, i)));
        break;
      }
      case 'munmap':
        bind(rec.addr!, rec.pages!, () => UNMAPPED);
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
        if (forked(rec)) forks.push(forkCopy(rec, bindings));
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
    if (isPrivateView(f.file)) anon = true;
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
      if (isPrivateView(f.file)) {
        content.get(as, cell(addr, word)).possibleDuring(s, e, out);
        files.get(f.file - PRIVATE_FILE + MEMFD_FILE, cell(f.page, word)).possibleDuring(0, e, out);
      } else files.get(f.file, cell(f.page, word)).possibleDuring(s, e, out);
    }
  }
  return out;
}
