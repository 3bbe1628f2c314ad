/**
 * The program language: processes, each a list of threads, each a list of
 * ops. Memory is named symbolically, by region handle and page index, so a
 * program stays valid when the shrinker removes ops: an op whose region does
 * not exist (yet, or any more) fails with EINVAL without entering the kernel.
 */
import type { Advice } from '../mm/madvise.ts';
import type { FaultMode } from '../mm/machine.ts';

export type Prot = 'rw' | 'r' | 'none';
export type { Advice, FaultMode };

export type Op =
  /**
   * `growsdown`: MAP_GROWSDOWN, a stack: an access just below it grows it (a page index below 0 names one).
   * `shared`: MAP_SHARED | MAP_ANONYMOUS, shmem memory of its own that a fork's child shares (with growsdown: EINVAL).
   */
  | { readonly op: 'mmap'; readonly region: number; readonly pages: number; readonly prot: Prot; readonly growsdown?: boolean; readonly shared?: boolean }
  | { readonly op: 'munmap'; readonly region: number; readonly page: number; readonly pages: number }
  /**
   * mremap the whole region to `pages` pages; MREMAP_FIXED onto region `fixedTo`'s address; with
   * `dontunmap` (MREMAP_DONTUNMAP: needs maymove and an unchanged length) the old range stays mapped, emptied.
   */
  | { readonly op: 'mremap'; readonly region: number; readonly pages: number; readonly maymove: boolean; readonly fixedTo?: number; readonly dontunmap?: boolean }
  | { readonly op: 'mprotect'; readonly region: number; readonly page: number; readonly pages: number; readonly prot: Prot }
  | { readonly op: 'madvise'; readonly region: number; readonly page: number; readonly pages: number; readonly advice: Advice }
  | { readonly op: 'read'; readonly region: number; readonly page: number; readonly word: number }
  | { readonly op: 'write'; readonly region: number; readonly page: number; readonly word: number; readonly value: number }
  /** Create process `child` (an index into Program.processes); its threads start when fork returns. */
  | { readonly op: 'fork'; readonly child: number }
  /** Replace the caller's address space; the new stack, `args` pages of arguments, becomes `region`. */
  | { readonly op: 'exec'; readonly region: number; readonly args: number }
  /** The thread stops here and leaves its mm. */
  | { readonly op: 'exit' }
  /**
   * GUP-pin one page for a "device" (FOLL_PIN; R/W with FOLL_WRITE; GUP-fast
   * or the slow path; FOLL_LONGTERM), kept under handle `pin` by the process.
   */
  | { readonly op: 'pin'; readonly pin: number; readonly region: number; readonly page: number; readonly write: boolean; readonly fast: boolean; readonly longterm: boolean }
  /** The device reads or writes a word of the pinned page (DMA: no page tables). */
  | { readonly op: 'pinRead'; readonly pin: number; readonly word: number }
  | { readonly op: 'pinWrite'; readonly pin: number; readonly word: number; readonly value: number }
  | { readonly op: 'unpin'; readonly pin: number }
  /**
   * Take a plain page reference (FOLL_GET, R/O: what vmsplice() takes for a
   * pipe) on one page, GUP-fast or the slow path, kept under handle `ref`;
   * the "device" (the pipe's reader) reads it with getRead; put drops it.
   * Not a pin: fork shares the page, and a COW may leave the reference stale.
   */
  | { readonly op: 'get'; readonly ref: number; readonly region: number; readonly page: number; readonly fast: boolean }
  | { readonly op: 'getRead'; readonly ref: number; readonly word: number }
  | { readonly op: 'put'; readonly ref: number }
  /** Add a swap device of `slots` slots, known to the program as `dev`; `sync`: a synchronous one (SWP_SYNCHRONOUS_IO, zram). */
  | { readonly op: 'swapon'; readonly dev: number; readonly slots: number; readonly sync?: boolean }
  | { readonly op: 'swapoff'; readonly dev: number }
  /** Reclaim one anon folio, chosen by `victim` among those in use (pfn order): kswapd's work. */
  | { readonly op: 'reclaim'; readonly victim: number }
  /** Migrate one mapped anon folio to a new frame, chosen the same way: kcompactd's work. */
  | { readonly op: 'migrate'; readonly victim: number }
  /** open(O_CREAT | O_EXCL) hugetlbfs file `file` (a name shared by all processes) and size it to `hpages` huge pages. */
  | { readonly op: 'hugetlbCreate'; readonly file: number; readonly hpages: number }
  /**
   * mmap(MAP_SHARED) huge pages [hpage, hpage+hpages) of hugetlbfs file `file` (opened with O_CREAT)
   * as `region`. In a hugetlb region the page indices and counts of the other ops are in huge pages.
   */
  | { readonly op: 'hugetlbMmap'; readonly region: number; readonly file: number; readonly hpage: number; readonly hpages: number; readonly prot: Prot }
  /** fallocate(PUNCH_HOLE | KEEP_SIZE) of huge pages [hpage, hpage+hpages) of file `file`. */
  | { readonly op: 'hugetlbPunch'; readonly file: number; readonly hpage: number; readonly hpages: number }
  /** ftruncate() of file `file` to `hpages` huge pages. */
  | { readonly op: 'hugetlbTruncate'; readonly file: number; readonly hpages: number }
  /** memfd_create() of tmpfs file `file` (a name shared by all processes), then ftruncate() to `pages` pages. */
  | { readonly op: 'memfdCreate'; readonly file: number; readonly pages: number }
  /** mmap() pages [page, page+pages) of memfd `file` as `region`, MAP_SHARED or MAP_PRIVATE. */
  | { readonly op: 'memfdMmap'; readonly region: number; readonly file: number; readonly page: number; readonly pages: number; readonly prot: Prot; readonly shared: boolean }
  /** ftruncate() of memfd `file` to `pages` pages. */
  | { readonly op: 'memfdTruncate'; readonly file: number; readonly pages: number }
  /** fallocate(PUNCH_HOLE | KEEP_SIZE) of pages [page, page+pages) of memfd `file`. */
  | { readonly op: 'memfdPunch'; readonly file: number; readonly page: number; readonly pages: number };

export type OpKind = Op['op'];

export const OP_KINDS: readonly OpKind[] = [
  'mmap',
  'munmap',
  'mremap',
  'mprotect',
  'madvise',
  'read',
  'write',
  'fork',
  'exec',
  'exit',
  'pin',
  'pinRead',
  'pinWrite',
  'unpin',
  'get',
  'getRead',
  'put',
  'swapon',
  'swapoff',
  'reclaim',
  'migrate',
  'hugetlbCreate',
  'hugetlbMmap',
  'hugetlbPunch',
  'hugetlbTruncate',
  'memfdCreate',
  'memfdMmap',
  'memfdTruncate',
  'memfdPunch',
];

export interface ProcessSpec {
  readonly threads: readonly (readonly Op[])[];
}

export interface Program {
  /** processes[0] runs from the start; the others only once a fork names them. */
  readonly processes: readonly ProcessSpec[];
  /** Physical memory in frames (default 24). */
  readonly frames?: number;
  /** Kernel threads (kswapd, kcompactd): no mm; they run reclaim, migration, swapoff. */
  readonly kthreads?: readonly (readonly Op[])[];
  /** How user faults are handled (default 'vma-lock': per-VMA locks with the mmap_lock fallback). */
  readonly faultMode?: FaultMode;
  /**
   * Read faults map the shared zero page (Linux's default). Without it the
   * machine behaves as under mm_forbids_zeropage(): programs written before
   * the model had a zero page keep their behaviour.
   */
  readonly zeroPage?: boolean;
  /**
   * The khugepaged kernel thread runs, for a program that asks for huge
   * pages (MADV_HUGEPAGE): programs written before the model had khugepaged
   * keep their tasks, and so their schedules.
   */
  readonly khugepaged?: boolean;
  /** THP enabled=always (every anonymous private VMA may get THPs), not the default madvise. */
  readonly thpAlways?: boolean;
}

export function countOps(p: Program): number {
  let n = 0;
  for (const proc of p.processes) for (const t of proc.threads) n += t.length;
  for (const t of p.kthreads ?? []) n += t.length;
  return n;
}
