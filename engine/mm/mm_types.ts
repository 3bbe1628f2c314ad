/*
 * include/linux/mm_types.h, page-flags.h, pgtable.h, swapops.h for the model.
 *
 * Addresses are virtual page numbers: the model has no sub-page offsets, so
 * `address` everywhere is what the kernel would write `address >> PAGE_SHIFT`.
 * The page-table tree is two levels: a PMD level (mm->pgd[pmd_index]) over
 * PTE-table pages of PTRS_PER_PTE entries, each with its own split PT lock.
 * A PMD entry is none, a PTE table, or a huge leaf (PmdHuge): an anonymous
 * THP of HPAGE_PMD_NR pages mapped by that one entry, under the PMD lock:
 * mm->page_table_lock, as pmd_lockptr() is without USE_SPLIT_PMD_PTLOCKS
 * (the model has one PMD page per mm, so a split PMD lock would be per mm
 * too), the lock pte_alloc()'s pmd_populate() takes.
 */
import type { FolioMmIds } from './rmap_mm_id.ts';
import { BitLock } from '../locking/bitlock.ts';
import { RwSemaphore } from '../locking/rwsem.ts';
import { Seqcount } from '../locking/seqcount.ts';
import { Spinlock } from '../locking/spinlock.ts';
import { KObject } from './kasan.ts';
import type { AddressSpace, File } from '../fs/fs.ts';
import type { HugetlbVmaLock } from './hugetlb.ts';

/* Geometry: small, so that several page tables, collisions and ENOMEM happen. */
/** Words of user data per page: more than one, so that a copy that loses data shows. */
export const WORDS_PER_PAGE = 2;
export const PTRS_PER_PTE = 16;
export const TASK_SIZE = 256;
export const PTRS_PER_PMD = TASK_SIZE / PTRS_PER_PTE;
/** A PMD-sized THP maps what one PTE table maps: HPAGE_PMD_NR = PTRS_PER_PTE pages (HPAGE_PMD_ORDER 4). */
export const HPAGE_PMD_ORDER = 4;
export const HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;
/**
 * my_zero_pfn(): the shared zero page's frame. It lies outside the machine's
 * page frames (mem_map): like the kernel's empty_zero_page it is never
 * allocated or freed, and only pfn_folio() knows it.
 */
export const ZERO_PFN = 0xfffff;
/**
 * The huge zero folio's head frame (huge_zero_pfn): HPAGE_PMD_NR frames,
 * PMD-aligned, outside mem_map as ZERO_PFN is, so that no allocation, free,
 * reclaim or migration ever meets it; only pfn_folio() knows it.
 */
export const HUGE_ZERO_PFN = 0xfff00;
/** Where exec builds the temporary stack (the very top of the address space). */
export const STACK_TOP_MAX = TASK_SIZE;
/** Where exec moves the stack to: setup_arg_pages shifts it down to end here. */
export const STACK_TOP = TASK_SIZE - 2 * PTRS_PER_PTE;
/** Top-down get_unmapped_area searches below this. */
export const MMAP_BASE = STACK_TOP - PTRS_PER_PTE;
/** mmap_min_addr: page 0.. stay unmapped. */
export const MMAP_MIN_ADDR = 1;

/* Page flags (include/linux/page-flags.h). A folio here is one page. */
export const PG_locked = 1 << 0;
export const PG_anon = 1 << 1; // folio->mapping & PAGE_MAPPING_ANON
export const PG_anon_exclusive = 1 << 2;
export const PG_swapcache = 1 << 3;
export const PG_dirty = 1 << 4;
export const PG_uptodate = 1 << 5;
/** Backed by swap: set on every new anon folio; cleared by MADV_FREE (a lazyfree folio), set again once it is re-dirtied. */
export const PG_swapbacked = 1 << 6;

/* vm_flags (include/linux/mm.h). */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_GROWSDOWN = 0x100;
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
export const VM_DONTCOPY = 0x20000;
export const VM_ACCOUNT = 0x100000;
export const VM_WIPEONFORK = 0x2000000;
export const VM_MAYSHARE = 0x80;
export const VM_DONTEXPAND = 0x40000;
export const VM_HUGETLB = 0x400000;
/** MADV_HUGEPAGE / MADV_NOHUGEPAGE */
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;
/** Exec's stack while it is being moved: rmap walks for migration must skip it. */
export const VM_STACK_INCOMPLETE_SETUP = VM_RAND_READ | VM_SEQ_READ;
export const VM_STACK_FLAGS = VM_GROWSDOWN | VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;

/* mm->flags */
export const MMF_HAS_PINNED = 1 << 0;
/** Registered with khugepaged (khugepaged_enter_vma). */
export const MMF_VM_HUGEPAGE = 1 << 1;

export function is_cow_mapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

/**
 * vma_is_accessible(): does the VMA allow any access? If not, its
 * vm_page_prot is PAGE_NONE and the PTEs mapped in it are protnone.
 */
export function vma_is_accessible(vma: VmArea): boolean {
  return (vma.vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0;
}

/* ------------------------------------------------------------------ PTEs */

export interface PteNone {
  readonly kind: 'none';
}
export interface PtePresent {
  readonly kind: 'present';
  readonly pfn: number;
  readonly write: boolean;
  readonly dirty: boolean;
  /**
   * _PAGE_PROTNONE: mapped with PAGE_NONE, the vm_page_prot of a VMA that
   * allows no access (PROT_NONE). Still pte_present() for the kernel (rmap,
   * zap, reclaim, migration, fork see a mapped page), but the hardware
   * Present bit is clear: every user access faults, and
   * pte_access_permitted() refuses it to GUP-fast.
   */
  readonly protnone: boolean;
}
/** A swap entry; `exclusive` is the swap PTE's PG_anon_exclusive bit. */
export interface PteSwap {
  readonly kind: 'swap';
  readonly type: number;
  readonly offset: number;
  readonly exclusive: boolean;
}
/** A migration entry: read, readable-exclusive (anon only) or write. */
export interface PteMigration {
  readonly kind: 'migration';
  readonly pfn: number;
  readonly mode: 'read' | 'read-exclusive' | 'write';
}
export type Pte = PteNone | PtePresent | PteSwap | PteMigration;

export const PTE_NONE: PteNone = Object.freeze({ kind: 'none' });

/**
 * A huge PMD leaf (pmd_trans_huge): HPAGE_PMD_NR pages of the THP whose head
 * is `pfn`, with one protection for all. A value, like a PTE.
 */
export interface PmdHuge {
  readonly kind: 'huge';
  readonly pfn: number;
  readonly write: boolean;
  readonly dirty: boolean;
  readonly protnone: boolean;
}
/** mk_huge_pmd() */
export function mk_huge_pmd(pfn: number, write: boolean, dirty = write, protnone = false): PmdHuge {
  return { kind: 'huge', pfn, write, dirty, protnone };
}
/** pmd_access_permitted(): as pte_access_permitted(), for a huge PMD. */
export function pmd_access_permitted(p: PmdHuge, write: boolean): boolean {
  return !p.protnone && (!write || p.write);
}
/**
 * A PMD migration entry (is_pmd_migration_entry, CONFIG_ARCH_ENABLE_THP_MIGRATION):
 * a PMD-mapped THP under migration, whole; `pfn` is its head page. Not
 * present: no mapcount and no reference of its own (set_pmd_migration_entry
 * dropped the PMD's), as for a PTE migration entry; the only swap PMD the
 * model has, so is_swap_pmd() is this. A value, like a PTE.
 */
export interface PmdMigration {
  readonly kind: 'migration';
  readonly pfn: number;
  readonly mode: 'read' | 'read-exclusive' | 'write';
}
/** A PMD entry: none (undefined), a PTE table, a huge leaf, or a PMD migration entry. */
export type Pmd = PteTable | PmdHuge | PmdMigration | undefined;
/** pmd_trans_huge() */
export function pmd_trans_huge(pmd: Pmd): pmd is PmdHuge {
  return pmd !== undefined && (pmd as PmdHuge).kind === 'huge';
}
/** is_pmd_migration_entry() (and is_swap_pmd(): the model has no other non-present, non-none PMD) */
export function is_pmd_migration_entry(pmd: Pmd): pmd is PmdMigration {
  return pmd !== undefined && (pmd as PmdMigration).kind === 'migration';
}
/** is_huge_zero_pmd(): a huge PMD of the huge zero folio (set_huge_zero_folio). */
export function is_huge_zero_pmd(pmd: Pmd): boolean {
  return pmd_trans_huge(pmd) && pmd.pfn === HUGE_ZERO_PFN;
}
/** is_swap_pmd(pmd) || pmd_trans_huge(pmd): what __pmd_trans_huge_lock() takes the PMD lock for. */
export function pmd_is_huge(pmd: Pmd): pmd is PmdHuge | PmdMigration {
  return pmd !== undefined && (pmd as PmdHuge).kind !== undefined;
}
/** The PTE table a PMD entry points to, or undefined (none, a huge leaf, a PMD migration entry). */
export function pmd_table(pmd: Pmd): PteTable | undefined {
  return pmd === undefined || (pmd as PmdHuge).kind !== undefined ? undefined : (pmd as PteTable);
}
export function pmd_same(a: Pmd, b: Pmd): boolean {
  if (a === b) return true;
  if (is_pmd_migration_entry(a) && is_pmd_migration_entry(b)) return a.pfn === b.pfn && a.mode === b.mode;
  if (!pmd_trans_huge(a) || !pmd_trans_huge(b)) return false;
  return a.pfn === b.pfn && a.write === b.write && a.dirty === b.dirty && a.protnone === b.protnone;
}

/** mk_pte(): `protnone` when the VMA's vm_page_prot is PAGE_NONE (see vma_is_accessible). */
export function mk_pte(pfn: number, write: boolean, dirty = write, protnone = false): PtePresent {
  return { kind: 'present', pfn, write, dirty, protnone };
}
export function pte_none(p: Pte): p is PteNone {
  return p.kind === 'none';
}
export function pte_present(p: Pte): p is PtePresent {
  return p.kind === 'present';
}
export function pte_write(p: Pte): boolean {
  return p.kind === 'present' && p.write;
}
export function pte_wrprotect(p: PtePresent): PtePresent {
  return p.write ? mk_pte(p.pfn, false, p.dirty, p.protnone) : p;
}
export function pte_mkwrite(p: PtePresent): PtePresent {
  return mk_pte(p.pfn, true, true, p.protnone);
}
export function pte_mkdirty(p: PtePresent): PtePresent {
  return p.dirty ? p : mk_pte(p.pfn, p.write, true, p.protnone);
}
/** pte_protnone(): present for the kernel, inaccessible to user space. */
export function pte_protnone(p: Pte): boolean {
  return p.kind === 'present' && p.protnone;
}
/**
 * pte_access_permitted() (x86: _PAGE_PRESENT | _PAGE_USER, and _PAGE_RW for
 * a write): what the MMU lets a user access through without a fault, and
 * what GUP-fast may follow. A protnone PTE has no _PAGE_PRESENT.
 */
export function pte_access_permitted(p: Pte, write: boolean): p is PtePresent {
  return p.kind === 'present' && !p.protnone && (!write || p.write);
}
/** Entries are immutable values: the same object, or equal fields. */
export function pte_same(a: Pte, b: Pte): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'none':
      return true;
    case 'present': {
      const o = b as PtePresent;
      return a.pfn === o.pfn && a.write === o.write && a.dirty === o.dirty && a.protnone === o.protnone;
    }
    case 'swap': {
      const o = b as PteSwap;
      return a.type === o.type && a.offset === o.offset && a.exclusive === o.exclusive;
    }
    case 'migration': {
      const o = b as PteMigration;
      return a.pfn === o.pfn && a.mode === o.mode;
    }
  }
}
/** is_zero_pfn() */
export function is_zero_pfn(pfn: number): boolean {
  return pfn === ZERO_PFN;
}
export function pte_to_string(p: Pte): string {
  switch (p.kind) {
    case 'none':
      return 'none';
    case 'present':
      return `${p.pfn === ZERO_PFN ? 'zero page' : `pfn ${p.pfn}`}${p.protnone ? ' NONE' : p.write ? ' W' : ' R'}${p.dirty ? 'D' : ''}`;
    case 'swap':
      return `swap ${p.type}:${p.offset}${p.exclusive ? ' excl' : ''}`;
    case 'migration':
      return `migration pfn ${p.pfn} ${p.mode}`;
  }
}

/* --------------------------------------------------------------- objects */

/** A page-table page: PTRS_PER_PTE entries and its split PT lock. */
export class PteTable extends KObject {
  readonly ptes: Pte[] = new Array<Pte>(PTRS_PER_PTE).fill(PTE_NONE);
  readonly ptl: Spinlock;

  constructor(mm: MmStruct, pmdIndex: number) {
    super('pte_table');
    this.ptl = new Spinlock(`ptl(${mm.kname}:${pmdIndex})`, 'ptlock');
  }
}

/**
 * struct page of a large folio (a THP): what is per page there. A small
 * folio is its own page (Folio has the same fields), so code that takes a
 * page takes either. PG_anon_exclusive is the only flag kept per page; the
 * head page's (pages[0]) stands for a PMD mapping of the whole folio.
 */
export class Page {
  flags = 0;
  /** PTE mappings of this page (0-based). */
  _mapcount = 0;
  data: number[] = new Array<number>(WORDS_PER_PAGE).fill(0);

  constructor(
    readonly pfn: number,
    readonly folio: Folio,
  ) {}
}
export type StructPage = Folio | Page;

/** page_folio() */
export function page_folio(page: StructPage): Folio {
  return page instanceof Page ? page.folio : page;
}

/** A folio: one page (order 0), or a THP of 2^order pages, as struct folio / struct page. */
export class Folio extends KObject {
  flags = 0;
  /** folio_order(): 0, or HPAGE_PMD_ORDER for a THP. */
  order = 0;
  /** The subpages of a large folio; undefined for a small one. */
  pages: Page[] | undefined = undefined;
  /** folio->_entire_mapcount: PMD mappings of a large folio (0-based). */
  _entire_mapcount = 0;
  /** folio_ref_count() */
  _refcount = 1;
  /**
   * folio_mapcount(): present PTEs that map it (0-based, unlike the kernel's -1); for a
   * large folio its _large_mapcount: every PTE of a subpage, and every PMD, counts one.
   */
  _mapcount = 0;
  /** FOLL_PIN references (folio_maybe_dma_pinned). Each also holds a refcount. */
  _pincount = 0;
  /** CONFIG_MM_ID (rmap_mm_id.ts): the mms that map a large folio; undefined for a small one. */
  _mm_ids: FolioMmIds | undefined = undefined;
  /** folio->mapping: the anon_vma for anon folios. */
  mapping: AnonVma | undefined;
  /** folio->index: linear page index within the anon_vma's pgoff space, or the file index of a page-cache folio. */
  index = 0;
  /**
   * folio->mapping of a page-cache folio (hugetlbfs, shmem): the file's
   * address_space; undefined for anon folios and once removed from the page
   * cache (a shmem folio moved to the swap cache has none either).
   */
  f_mapping: AddressSpace | undefined = undefined;
  /** folio->private / folio->swap: the swap entry while in the swap cache. */
  swap: { type: number; offset: number } | undefined;
  /** The page's contents: real values, so that data bugs are visible. */
  data: number[] = new Array<number>(WORDS_PER_PAGE).fill(0);
  private folioLock: BitLock | undefined;

  constructor(readonly pfn: number, kind = 'folio') {
    super(kind);
  }

  /** The folio lock (PG_locked), made on first use: most folios are never locked. */
  get lock(): BitLock {
    return (this.folioLock ??= new BitLock(this, PG_locked, `folio_lock(pfn ${this.pfn})`, 'folio_lock'));
  }
}

/** struct anon_vma: the root's rwsem is the lock for the whole tree. */
export class AnonVma extends KObject {
  root: AnonVma;
  parent: AnonVma;
  readonly rwsem: RwSemaphore;
  refcount = 1;
  /** anon_vma->rb_root: the interval tree of AVCs, kept sorted by vm_pgoff. */
  readonly rb_root: AnonVmaChain[] = [];
  num_children = 0;
  num_active_vmas = 0;

  constructor() {
    super('anon_vma');
    this.root = this;
    this.parent = this;
    this.rwsem = new RwSemaphore(`anon_vma_lock(${this.kname})`, 'anon_vma->rwsem');
  }
}

/** struct anon_vma_chain: links one VMA to one anon_vma. */
export class AnonVmaChain extends KObject {
  constructor(
    readonly vma: VmArea,
    readonly anon_vma: AnonVma,
  ) {
    super('anon_vma_chain');
  }
}

/** struct vm_area_struct */
export class VmArea extends KObject {
  vm_start: number;
  vm_end: number;
  vm_pgoff: number;
  vm_flags: number;
  anon_vma: AnonVma | undefined;
  /** vma->anon_vma_chain (same_vma list): list_add puts the newest first. */
  readonly anon_vma_chain: AnonVmaChain[] = [];
  /** Per-VMA lock sequence (vma_start_write sets it to mm->mm_lock_seq). */
  vm_lock_seq = -1;
  /** vma->vm_file: the file a shared mapping maps (hugetlbfs), or none for anon. */
  vm_file: File | undefined = undefined;
  /** vma->vm_private_data: for a shareable hugetlb VMA, its hugetlb vma_lock. */
  vm_private_data: HugetlbVmaLock | undefined = undefined;
  readonly vm_lock: RwSemaphore;
  /** vma->detached: out of the tree (vma_detach); lock_vma_under_rcu must refuse it. */
  detached = false;
  /**
   * vma->vm_sequence (the speculative-fault RFC): odd from vma_start_write
   * until mmap_write_unlock, so a speculative fault can tell that the VMA
   * (or its page tables) changed under it.
   */
  readonly vm_sequence: Seqcount;

  constructor(
    readonly vm_mm: MmStruct,
    start: number,
    end: number,
    pgoff: number,
    flags: number,
  ) {
    super('vma');
    this.vm_start = start;
    this.vm_end = end;
    this.vm_pgoff = pgoff;
    this.vm_flags = flags;
    this.vm_lock = new RwSemaphore(`vma_lock(${this.kname})`, 'vma->vm_lock');
    this.vm_sequence = new Seqcount(`vm_sequence(${this.kname})`);
  }

  override toString(): string {
    return `${this.kname}[${this.vm_start},${this.vm_end})`;
  }
}

/** struct mm_struct */
export class MmStruct extends KObject {
  readonly mmap_lock: RwSemaphore;
  readonly page_table_lock: Spinlock;
  /** mm->write_protect_seq: fork write-protects; GUP-fast must notice. */
  readonly write_protect_seq: Seqcount;
  mm_users = 1;
  mm_count = 1;
  flags = 0;
  /** Bumped each time mmap_lock is released for write (per-VMA locks). */
  mm_lock_seq = 0;
  /** The VMA tree (a maple tree in Linux): sorted by vm_start, no overlaps. */
  readonly mmap: VmArea[] = [];
  /** The PMD level: a PTE table per PTRS_PER_PTE pages, a huge leaf (THP), or none. */
  readonly pgd: Pmd[] = new Array<Pmd>(PTRS_PER_PMD).fill(undefined);
  /**
   * pmd_huge_pte(mm, pmd): the PTE tables deposited for huge PMDs
   * (pgtable_trans_huge_deposit), a list on the PMD page, taken back by any
   * split or zap of a huge PMD on it. Protected by the PMD lock.
   */
  readonly pmd_huge_pte: PteTable[] = [];
  /**
   * collapse_huge_page()'s `_pmd`: the PTE table khugepaged took out of the
   * PMD (pmdp_collapse_flush) and still maps pages through, until it puts a
   * THP or the table back. Only properties look at it: what the process
   * maps while the collapse runs (its mmap_lock is held for write).
   */
  collapse_pmd: { readonly index: number; readonly table: PteTable } | undefined = undefined;
  mmap_base = MMAP_BASE;
  start_stack = 0;
  arg_start = 0;
  /** Member of init_mm.mmlist (for swapoff) once it has swap entries. */
  onMmlist = false;
  /** mm->mm_id (CONFIG_MM_ID): set by mm_alloc(), see rmap_mm_id.ts. */
  mm_id = 0;

  constructor(readonly owner: string) {
    super('mm');
    this.mmap_lock = new RwSemaphore(`mmap_lock(${this.kname})`, 'mmap_lock');
    this.page_table_lock = new Spinlock(`page_table_lock(${this.kname})`, 'mm->page_table_lock');
    this.write_protect_seq = new Seqcount(`write_protect_seq(${this.kname})`);
  }
}

/* Fault flags and results (include/linux/mm_types.h, mm.h). */
export const FAULT_FLAG_WRITE = 1 << 0;
export const FAULT_FLAG_UNSHARE = 1 << 10;
export const FAULT_FLAG_REMOTE = 1 << 7;
/** The fault holds the VMA read-locked (lock_vma_under_rcu), not mmap_lock. */
export const FAULT_FLAG_VMA_LOCK = 1 << 12;
/** The fault runs speculatively, under RCU and vma->vm_sequence only. */
export const FAULT_FLAG_SPECULATIVE = 1 << 13;

export const VM_FAULT_OOM = 0x1;
export const VM_FAULT_SIGBUS = 0x2;
export const VM_FAULT_SIGSEGV = 0x40;
export const VM_FAULT_NOPAGE = 0x100;
export const VM_FAULT_LOCKED = 0x200;
export const VM_FAULT_RETRY = 0x400;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;

/** struct vm_fault: the control object of a fault. */
export interface VmFault {
  readonly vma: VmArea;
  readonly address: number;
  readonly flags: number;
  /** The PTE as read without the lock, to be rechecked with pte_same under it. */
  orig_pte: Pte;
  table: PteTable | undefined;
  /** The file page the fault is for (linear_page_index): set by do_fault. */
  pgoff?: number;
  /** vmf->page's folio: what vm_ops->fault found, with a reference (and, with VM_FAULT_LOCKED, locked). */
  folio?: Folio;
  /** vmf->cow_page's folio: do_cow_fault's private copy. */
  cow_folio?: Folio;
}

export const EPERM = 1;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EINVAL = 22;
export const EAGAIN = 11;
