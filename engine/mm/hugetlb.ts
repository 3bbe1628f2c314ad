/*
 * mm/hugetlb.c for the model: the huge page pool, hugetlb faults on shared
 * (hugetlbfs) mappings, PMD sharing and unsharing, the hugetlb vma_lock and
 * fault mutex, zap, mprotect and the vm_ops of hugetlb VMAs (seed 001).
 *
 * Geometry. A huge page spans one page-table page: HPAGE_NR_PAGES (=
 * PTRS_PER_PTE) base pages, so a hugetlb VMA covers whole slots of the PMD
 * level (mm->pgd[i]). The slot holds a HugetlbPtPage, the model's "PMD page":
 * a page-table page whose entry 0 is the huge PTE. As in x86's PMD sharing,
 * processes that map the same file page at an aligned address with the same
 * flags share that page-table page: each sharer's slot points at it and
 * pt_share_count counts them. huge_pmd_unshare() clears one sharer's slot and
 * drops its count; the page is freed (after an RCU grace period, KASAN-
 * poisoned) by free_pgtables() of the last sharer. Every hugetlb VMA here is
 * MAP_SHARED (hugetlbfs): private mappings, reservations, migration and GUP
 * of hugetlb pages are not modelled.
 *
 * Locking (mm/rmap.c, "hugetlbfs PageHuge() take locks in this order"):
 *   hugetlb_fault_mutex -> vma_lock -> i_mmap_rwsem -> folio_lock -> PT lock
 * A fault holds the VMA's vma_lock for read from huge_pte_alloc() until it
 * is done with the PTE pointer; whoever calls huge_pmd_unshare() holds the
 * vma_lock for write and i_mmap_rwsem for write (huge_pmd_share() walks
 * i_mmap for read). Truncate and hole punch cannot sleep on a vma_lock
 * while holding i_mmap_rwsem: they trylock and, if that fails, drop
 * i_mmap_rwsem and take the locks in order (hugetlb_unmap_file_folio).
 */
import { bit_lock, bit_unlock } from '../locking/bitlock.ts';
import { KObject, kfree } from './kasan.ts';
import { Mutex, mutex_lock, mutex_unlock } from '../locking/mutex.ts';
import { RwSemaphore, down_read, down_write, down_write_trylock, up_read, up_write } from '../locking/rwsem.ts';
import { spin_lock, spin_unlock, type Spinlock } from '../locking/spinlock.ts';
import { BUG_ON, WARN_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { cond_resched } from '../sched/cond_resched.ts';
import type { AddressSpace } from '../fs/fs.ts';
import { i_mmap_assert_write_locked, i_mmap_lock_read, i_mmap_lock_write, i_mmap_unlock_read, i_mmap_unlock_write, vma_interval_tree_foreach } from '../fs/fs.ts';
import type { AccessResult } from './fault.ts';
import { machine, type Machine } from './machine.ts';
import {
  EINVAL,
  FAULT_FLAG_WRITE,
  Folio,
  PG_dirty,
  PG_uptodate,
  PTE_NONE,
  PTRS_PER_PTE,
  type PmdHuge,
  type PmdMigration,
  PteTable,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  VM_HUGETLB,
  VM_MAYSHARE,
  VM_SHARED,
  VM_WRITE,
  WORDS_PER_PAGE,
  mk_pte,
  pte_access_permitted,
  pte_mkdirty,
  pte_none,
  pte_same,
  vma_is_accessible,
  type MmStruct,
  type Pte,
  type VmArea,
  type VmFault,
} from './mm_types.ts';
import type { MmuGather } from './memory.ts';
import { folio_get } from './page_alloc.ts';
import { pmd_index } from './pgtable.ts';

/** pages_per_huge_page(h): a huge page is one page-table page's worth. */
export const HPAGE_NR_PAGES = PTRS_PER_PTE;
/** nr_hugepages: the pool, apart from the frames of page_alloc.c. */
export const HUGETLB_POOL_PAGES = 4;
/** Huge pages get pfns of their own, out of page_alloc's range. */
export const HUGETLB_PFN_BASE = 4096;
/** num_fault_mutexes: few, so that different pages share a mutex. */
export const NUM_FAULT_MUTEXES = 4;

/* zap_flags */
/** The final unmap of a VMA (munmap, exit): its vma_lock goes with it. */
export const ZAP_FLAG_UNMAP = 1 << 1;

/* ------------------------------------------------------------- objects */

/** A huge page: a folio of HPAGE_NR_PAGES pages from the hugetlb pool. */
export class HugetlbFolio extends Folio {
  constructor(pfn: number) {
    super(pfn, 'hugetlb_folio');
    this.data = new Array<number>(HPAGE_NR_PAGES * WORDS_PER_PAGE).fill(0);
  }
}

/**
 * A hugetlb page-table page in a PMD-level slot: entry 0 is the huge PTE.
 * Shared between the mms whose slots point at it (huge_pmd_share); its PT
 * lock (huge_pte_lockptr) is shared with it.
 */
export class HugetlbPtPage extends PteTable {
  /** ptdesc->pt_share_count (the page's refcount before 6.13): the sharers. */
  pt_share_count = 1;
}

export function is_hugetlb_pt_page(table: PteTable | PmdHuge | PmdMigration): table is HugetlbPtPage {
  return table instanceof HugetlbPtPage;
}

/**
 * struct hugetlb_vma_lock: reference counted so that it can outlive its VMA
 * (hugetlb_unmap_file_folio waits on it after dropping i_mmap_rwsem, when
 * the VMA may go away); `vma` is cleared, under rw_sema, when it does.
 */
export class HugetlbVmaLock extends KObject {
  refs = 1;
  readonly rw_sema: RwSemaphore;
  vma: VmArea | undefined;

  constructor(vma: VmArea) {
    super('hugetlb_vma_lock');
    this.vma = vma;
    this.rw_sema = new RwSemaphore(`hugetlb_vma_lock(${vma.kname})`, 'hugetlb_vma_lock');
  }
}

/** struct hstate, the pool, and hugetlb_fault_mutex_table[]: one per machine. */
export class Hstate {
  readonly nr_pages = HPAGE_NR_PAGES;
  /** The folio most recently in each huge page frame (poisoned once freed). */
  readonly frames: (HugetlbFolio | undefined)[] = new Array<HugetlbFolio | undefined>(HUGETLB_POOL_PAGES).fill(undefined);
  /** h->hugepage_freelists: free frames, lowest last (popped first). */
  private readonly freelist: number[] = [];
  readonly hugetlb_fault_mutex_table: Mutex[] = [];

  constructor() {
    for (let i = HUGETLB_POOL_PAGES - 1; i >= 0; i--) this.freelist.push(i);
    for (let i = 0; i < NUM_FAULT_MUTEXES; i++) this.hugetlb_fault_mutex_table.push(new Mutex(`hugetlb_fault_mutex[${i}]`, 'hugetlb_fault_mutex'));
  }

  get free_huge_pages(): number {
    return this.freelist.length;
  }

  dequeue(): number | undefined {
    return this.freelist.pop();
  }

  enqueue(frame: number): void {
    let i = this.freelist.length;
    while (i > 0 && this.freelist[i - 1]! < frame) i--;
    this.freelist.splice(i, 0, frame);
  }
}

const hstates = new WeakMap<Machine, Hstate>();

/** The default hstate of the running machine. */
export function hstate(): Hstate {
  const m = machine();
  let h = hstates.get(m);
  if (!h) hstates.set(m, (h = new Hstate()));
  return h;
}

/* ----------------------------------------------------------- helpers */

export function is_vm_hugetlb_page(vma: VmArea): boolean {
  return (vma.vm_flags & VM_HUGETLB) !== 0;
}

/** address & huge_page_mask(h) */
export function huge_page_addr(address: number): number {
  return address - (address % HPAGE_NR_PAGES);
}

/** vma_hugecache_offset(): the file index, in huge pages, of `address` in `vma`. */
export function vma_hugecache_offset(vma: VmArea, address: number): number {
  return Math.floor((address - vma.vm_start + vma.vm_pgoff) / HPAGE_NR_PAGES);
}

/** The hstate of machine m, if anything used hugetlb on it (for property checks). */
export function hugetlb_hstate_of(m: Machine): Hstate | undefined {
  return hstates.get(m);
}

/** Which huge page frame of the pool a huge pfn names. */
export function huge_pfn_frame(pfn: number): number {
  return (pfn - HUGETLB_PFN_BASE) / HPAGE_NR_PAGES;
}

export function hugetlb_pfn_folio(pfn: number): HugetlbFolio {
  const f = hstate().frames[huge_pfn_frame(pfn)];
  BUG_ON(!f, 'hugetlb_pfn_folio', `no huge page was ever allocated at pfn ${pfn}`);
  return f!;
}

/* ------------------------------------------------------------- the pool */

/**
 * alloc_hugetlb_folio(): a huge page from the pool with one reference, or
 * undefined when the pool is empty (-ENOSPC: the fault gets SIGBUS). The
 * pool is changed in one step (hugetlb_lock).
 */
export function* alloc_hugetlb_folio(): KGen<HugetlbFolio | undefined> {
  yield 'alloc_hugetlb_folio: spin_lock(hugetlb_lock)';
  const h = hstate();
  const frame = h.dequeue();
  if (frame === undefined) return undefined;
  const folio = new HugetlbFolio(HUGETLB_PFN_BASE + frame * HPAGE_NR_PAGES);
  h.frames[frame] = folio;
  return folio;
}

/** free_huge_folio(): the last reference is gone; the page goes back to the pool. */
function free_huge_folio(folio: HugetlbFolio): void {
  BUG_ON(folio._mapcount !== 0, 'free_huge_folio', `${folio.kname} freed while mapped ${folio._mapcount} times`);
  BUG_ON(folio.lock.isLocked(), 'free_huge_folio', `${folio.kname} freed while locked`);
  BUG_ON(folio.f_mapping !== undefined, 'free_huge_folio', `${folio.kname} freed while in the page cache`);
  const frame = huge_pfn_frame(folio.pfn);
  kfree(folio);
  hstate().enqueue(frame);
}

/** folio_put() of a huge page: __folio_put() sends it to free_huge_folio(). */
export function hugetlb_folio_put(folio: HugetlbFolio): void {
  BUG_ON(folio._refcount <= 0, 'folio_put', `refcount underflow on ${folio.kname}`);
  if (--folio._refcount === 0) free_huge_folio(folio);
}

/* ----------------------------------------------------------- vma_lock */

/** __vma_shareable_lock(): a shareable VMA that still has its vma_lock. */
function __vma_shareable_lock(vma: VmArea): boolean {
  return (vma.vm_flags & VM_MAYSHARE) !== 0 && vma.vm_private_data !== undefined;
}

/**
 * The rw_semaphore lives inside the vma_lock: the step that takes or drops
 * it touches the vma_lock's memory, which KASAN checks (the pointer was read
 * a step earlier, when the lock op began).
 */
function vma_lock_touch(vma_lock: HugetlbVmaLock): void {
  void vma_lock.refs;
}

export function* hugetlb_vma_lock_read(vma: VmArea): KGen {
  if (!__vma_shareable_lock(vma)) return;
  const vma_lock = vma.vm_private_data!;
  yield* down_read(vma_lock.rw_sema);
  vma_lock_touch(vma_lock);
}

export function* hugetlb_vma_unlock_read(vma: VmArea): KGen {
  if (!__vma_shareable_lock(vma)) return;
  const vma_lock = vma.vm_private_data!;
  vma_lock_touch(vma_lock);
  yield* up_read(vma_lock.rw_sema);
}

export function* hugetlb_vma_lock_write(vma: VmArea): KGen {
  if (!__vma_shareable_lock(vma)) return;
  const vma_lock = vma.vm_private_data!;
  yield* down_write(vma_lock.rw_sema);
  vma_lock_touch(vma_lock);
}

export function* hugetlb_vma_unlock_write(vma: VmArea): KGen {
  if (!__vma_shareable_lock(vma)) return;
  const vma_lock = vma.vm_private_data!;
  vma_lock_touch(vma_lock);
  yield* up_write(vma_lock.rw_sema);
}

/** true if locked (or the VMA has no lock to take), false if the lock is contended. */
export function* hugetlb_vma_trylock_write(vma: VmArea): KGen<boolean> {
  if (!__vma_shareable_lock(vma)) return true;
  const vma_lock = vma.vm_private_data!;
  const locked = yield* down_write_trylock(vma_lock.rw_sema);
  vma_lock_touch(vma_lock);
  return locked;
}

/** hugetlb_vma_assert_locked(): lockdep_assert_held, a WARN. */
function hugetlb_vma_assert_locked(vma: VmArea, fn: string): void {
  if (__vma_shareable_lock(vma)) WARN_ON(!vma.vm_private_data!.rw_sema.heldByCurrent(), fn, `${vma.vm_private_data!.rw_sema.name} not held`);
}

/** kref_put(&vma_lock->refs, hugetlb_vma_lock_release) */
export function hugetlb_vma_lock_put(vma_lock: HugetlbVmaLock): void {
  if (--vma_lock.refs === 0) kfree(vma_lock);
}

/**
 * __hugetlb_vma_unlock_write_put(): detach the lock from its VMA (the VMA
 * can no longer share PMDs) and drop the VMA's reference.
 * We enter with the lock held for write; we return with it released.
 */
function* __hugetlb_vma_unlock_write_put(vma_lock: HugetlbVmaLock): KGen {
  const vma = vma_lock.vma!;
  // Semaphore synchronizes access to vma_lock->vma field.
  vma_lock.vma = undefined;
  vma.vm_private_data = undefined;
  yield* up_write(vma_lock.rw_sema);
  hugetlb_vma_lock_put(vma_lock);
}

function* __hugetlb_vma_unlock_write_free(vma: VmArea): KGen {
  if (__vma_shareable_lock(vma)) yield* __hugetlb_vma_unlock_write_put(vma.vm_private_data!);
}

/** hugetlb_vma_lock_alloc(): every shareable VMA gets its own lock. */
export function hugetlb_vma_lock_alloc(vma: VmArea): void {
  if (!(vma.vm_flags & VM_MAYSHARE) || vma.vm_private_data) return;
  vma.vm_private_data = new HugetlbVmaLock(vma);
}

/* ------------------------------------------------------ fault mutexes */

/** hugetlb_fault_mutex_hash(): which of the few fault mutexes guards (mapping, idx). */
export function hugetlb_fault_mutex_hash(mapping: AddressSpace, idx: number): number {
  return (mapping.host.i_ino * 3 + idx) % NUM_FAULT_MUTEXES;
}

export function hugetlb_fault_mutex(hash: number): Mutex {
  return hstate().hugetlb_fault_mutex_table[hash]!;
}

/* --------------------------------------------------------- page tables */

/**
 * huge_pte_offset() / hugetlb_walk(): the page-table page holding the huge
 * PTE for `addr`, if any. The caller holds the vma_lock or i_mmap_rwsem, so
 * the page cannot be unshared or freed under it.
 */
export function hugetlb_walk(vma: VmArea, addr: number): HugetlbPtPage | undefined {
  const table = vma.vm_mm.pgd[pmd_index(addr)];
  if (!table) return undefined;
  BUG_ON(!is_hugetlb_pt_page(table), 'hugetlb_walk', `a PTE table of base pages at ${addr} in hugetlb ${vma}`);
  return table as HugetlbPtPage;
}

export function huge_ptep_get(ptep: HugetlbPtPage): Pte {
  return ptep.ptes[0]!;
}

export function set_huge_pte_at(ptep: HugetlbPtPage, pte: Pte): void {
  ptep.ptes[0] = pte;
}

/** huge_pte_lock(): the PT lock of the (possibly shared) page-table page. */
export function* huge_pte_lock(ptep: HugetlbPtPage): KGen<Spinlock> {
  yield* spin_lock(ptep.ptl);
  return ptep.ptl;
}

/** vma_shareable(): the VMA covers the whole page-table page and has its vma_lock. */
function vma_shareable(vma: VmArea, addr: number): boolean {
  const base = addr - (addr % PTRS_PER_PTE);
  return base >= vma.vm_start && base + PTRS_PER_PTE <= vma.vm_end && __vma_shareable_lock(vma);
}

function want_pmd_share(vma: VmArea, addr: number): boolean {
  return vma_shareable(vma, addr);
}

/**
 * page_table_shareable(): where svma maps file page idx, if that address is
 * aligned as ours and svma may share with us: same flags, the whole
 * page-table page inside svma, and svma still has its vma_lock (a VMA whose
 * final unmap has begun has none, and its page tables are about to go).
 * 0 when it may not.
 */
function page_table_shareable(svma: VmArea, vma: VmArea, addr: number, idx: number): number {
  const saddr = idx - svma.vm_pgoff + svma.vm_start;
  const sbase = saddr - (saddr % PTRS_PER_PTE);
  if (addr % PTRS_PER_PTE !== saddr % PTRS_PER_PTE || vma.vm_flags !== svma.vm_flags) return -1;
  if (sbase < svma.vm_start || sbase + PTRS_PER_PTE > svma.vm_end || !svma.vm_private_data) return -1;
  return saddr;
}

/**
 * huge_pmd_share(): look for another VMA mapping this file page whose page
 * table we can share; take a share of it and put it in our slot. Else (or if
 * our slot filled meanwhile) allocate our own.
 * We enter with the vma_lock held for read; we take i_mmap_rwsem for read.
 */
function* huge_pmd_share(mm: MmStruct, vma: VmArea, addr: number): KGen<HugetlbPtPage | undefined> {
  const mapping = vma.vm_file!.f_mapping;
  const idx = addr - vma.vm_start + vma.vm_pgoff;
  let spte: HugetlbPtPage | undefined;
  yield* i_mmap_lock_read(mapping);
  for (const svma of vma_interval_tree_foreach(mapping, idx, idx)) {
    if (svma === vma) continue;
    const saddr = page_table_shareable(svma, vma, addr, idx);
    if (saddr < 0) continue;
    // svma's own faults may be populating its slot: an unlocked read.
    yield 'huge_pmd_share: hugetlb_walk(svma)';
    spte = hugetlb_walk(svma, saddr);
    if (spte) {
      spte.pt_share_count++;
      break;
    }
  }
  if (spte) {
    yield* spin_lock(mm.page_table_lock);
    if (!mm.pgd[pmd_index(addr)]) mm.pgd[pmd_index(addr)] = spte; // pud_populate
    else spte.pt_share_count--;
    yield* spin_unlock(mm.page_table_lock);
  }
  const pte = yield* huge_pmd_alloc(mm, addr);
  yield* i_mmap_unlock_read(mapping);
  return pte;
}

/** pmd_alloc() for hugetlb: our slot's page-table page, allocated if empty. */
function* huge_pmd_alloc(mm: MmStruct, addr: number): KGen<HugetlbPtPage | undefined> {
  const idx = pmd_index(addr);
  yield 'pmd_alloc: read pud';
  const cur = mm.pgd[idx];
  if (cur) {
    BUG_ON(!is_hugetlb_pt_page(cur), 'huge_pmd_alloc', `a PTE table of base pages in the hugetlb range at ${addr}`);
    return cur as HugetlbPtPage;
  }
  const fresh = new HugetlbPtPage(mm, idx);
  yield* spin_lock(mm.page_table_lock);
  let lost = true;
  if (!mm.pgd[idx]) {
    mm.pgd[idx] = fresh;
    lost = false;
  }
  const table = mm.pgd[idx] as HugetlbPtPage;
  yield* spin_unlock(mm.page_table_lock);
  if (lost) kfree(fresh);
  return table;
}

/**
 * huge_pte_alloc(): the page-table page for a fault at `addr`, shared with
 * another process's if we can (want_pmd_share and our slot is empty).
 * We enter with the vma_lock held for read: from here until the caller is
 * done with the pointer we return, nobody can unshare it from our mm.
 */
export function* huge_pte_alloc(mm: MmStruct, vma: VmArea, addr: number): KGen<HugetlbPtPage | undefined> {
  yield 'huge_pte_alloc: read pud';
  if (want_pmd_share(vma, addr) && !mm.pgd[pmd_index(addr)]) return yield* huge_pmd_share(mm, vma, addr);
  return yield* huge_pmd_alloc(mm, addr);
}

/**
 * huge_pmd_unshare(): if our slot's page-table page is shared, let go of it:
 * clear our slot and drop our share. The other sharers keep it, entries and
 * all. 1 if we unshared, 0 if the page is ours alone (the caller then zaps
 * or changes its entries).
 * We enter with the vma_lock and i_mmap_rwsem held for write and the PT lock
 * held: huge_pmd_share() (i_mmap_rwsem for read) cannot pick the page up
 * while its count is being decided, and no fault of ours holds its pointer.
 */
export function huge_pmd_unshare(mm: MmStruct, vma: VmArea, addr: number, ptep: HugetlbPtPage): number {
  i_mmap_assert_write_locked(vma.vm_file!.f_mapping, 'huge_pmd_unshare');
  hugetlb_vma_assert_locked(vma, 'huge_pmd_unshare');
  BUG_ON(ptep.pt_share_count === 0, 'huge_pmd_unshare', `${ptep.kname} has no sharers`);
  if (ptep.pt_share_count === 1) return 0;
  mm.pgd[pmd_index(addr)] = undefined; // pud_clear
  ptep.pt_share_count--;
  return 1;
}

/* --------------------------------------------------------- page cache */

/**
 * filemap_lock_hugetlb_folio(): the page-cache folio at idx, referenced and
 * locked, or undefined. The lookup is lockless (RCU); a folio truncated
 * while we slept on its lock is let go and looked up again.
 */
function* filemap_lock_hugetlb_folio(mapping: AddressSpace, idx: number): KGen<HugetlbFolio | undefined> {
  for (;;) {
    yield 'filemap_lock_hugetlb_folio: xa_load(i_pages)';
    const folio = mapping.i_pages[idx] as HugetlbFolio | undefined;
    if (!folio) return undefined;
    folio_get(folio);
    yield* bit_lock(folio.lock);
    // Has the folio been truncated?
    if (folio.f_mapping === mapping && folio.index === idx) return folio;
    yield* bit_unlock(folio.lock);
    hugetlb_folio_put(folio);
  }
}

/**
 * hugetlb_add_to_page_cache(): a fresh folio goes into the page cache,
 * locked, with a reference of the cache's own. We enter with the fault
 * mutex held, so nobody else can add at idx. 0, or -EEXIST.
 */
function* hugetlb_add_to_page_cache(folio: HugetlbFolio, mapping: AddressSpace, idx: number): KGen<number> {
  yield* bit_lock(folio.lock); // __folio_set_locked
  yield 'hugetlb_add_to_page_cache: xa_lock(i_pages)';
  if (mapping.i_pages[idx]) {
    yield* bit_unlock(folio.lock);
    return -17;
  }
  mapping.i_pages[idx] = folio;
  folio.f_mapping = mapping;
  folio.index = idx;
  folio._refcount++;
  // Dirty, so that it is never dropped from the cache but by truncate.
  folio.flags |= PG_dirty;
  return 0;
}

/**
 * hugetlb_delete_from_page_cache(): take the folio out of the file and drop
 * the cache's reference. We enter with the folio locked.
 */
export function hugetlb_delete_from_page_cache(folio: HugetlbFolio): void {
  BUG_ON(!folio.lock.isLocked(), 'hugetlb_delete_from_page_cache', `${folio.kname} not locked`);
  const mapping = folio.f_mapping!;
  mapping.i_pages[folio.index] = undefined;
  folio.f_mapping = undefined;
  folio.flags &= ~(PG_dirty | PG_uptodate);
  hugetlb_folio_put(folio);
}

/* -------------------------------------------------------------- faults */

/** struct vm_fault as hugetlb_fault() fills it in. */
interface HugetlbVmFault extends VmFault {
  readonly real_address: number;
  /** The file index, in huge pages. */
  readonly pgoff: number;
  pte: HugetlbPtPage | undefined;
}

/**
 * hugetlb_fault(): a fault in a hugetlb VMA. The fault mutex serialises
 * instantiation of one file page; the vma_lock, held for read from
 * huge_pte_alloc() until we are done with vmf.pte, keeps that page-table
 * page ours: huge_pmd_unshare() needs the vma_lock for write (seed 001).
 * We enter with mmap_lock held for read; we return with it, and with the
 * vma_lock and the fault mutex released.
 */
export function* hugetlb_fault(mm: MmStruct, vma: VmArea, address: number, flags: number): KGen<number> {
  const haddr = huge_page_addr(address);
  const vmf: HugetlbVmFault = {
    vma,
    address: haddr,
    real_address: address,
    flags,
    pgoff: vma_hugecache_offset(vma, haddr),
    orig_pte: PTE_NONE,
    table: undefined,
    pte: undefined,
  };
  // Serialize hugepage allocation and instantiation, so that we don't get
  // spurious allocation failures if two CPUs race to instantiate the same
  // page in the page cache.
  const mapping = vma.vm_file!.f_mapping;
  const hash = hugetlb_fault_mutex_hash(mapping, vmf.pgoff);
  yield* mutex_lock(hugetlb_fault_mutex(hash));

  // Acquire vma lock before calling huge_pte_alloc and hold until finished
  // with vmf.pte. This prevents huge_pmd_unshare from being called
  // elsewhere and making vmf.pte no longer valid.
  yield* hugetlb_vma_lock_read(vma);
  vmf.pte = yield* huge_pte_alloc(mm, vma, haddr);
  if (!vmf.pte) {
    yield* hugetlb_vma_unlock_read(vma);
    yield* mutex_unlock(hugetlb_fault_mutex(hash));
    return VM_FAULT_OOM;
  }
  vmf.table = vmf.pte;
  yield 'hugetlb_fault: huge_ptep_get';
  vmf.orig_pte = huge_ptep_get(vmf.pte);
  // hugetlb_no_page drops the vma lock and the fault mutex itself.
  if (pte_none(vmf.orig_pte)) return yield* hugetlb_no_page(mapping, vmf, hash);

  let ret = 0;
  // Not present: a migration or hwpoison entry, neither of which is modelled.
  if (vmf.orig_pte.kind === 'present') {
    const ptl = yield* huge_pte_lock(vmf.pte);
    // Check for a racing update before calling hugetlb_wp().
    if (pte_same(vmf.orig_pte, huge_ptep_get(vmf.pte))) {
      if (vmf.flags & FAULT_FLAG_WRITE) {
        if (!vmf.orig_pte.write) ret = hugetlb_wp(vmf);
        else set_huge_pte_at(vmf.pte, pte_mkdirty(vmf.orig_pte)); // huge_ptep_set_access_flags
      }
    }
    yield* spin_unlock(ptl);
  }
  yield* hugetlb_vma_unlock_read(vma);
  yield* mutex_unlock(hugetlb_fault_mutex(hash));
  return ret;
}

/**
 * hugetlb_wp(): a write fault on a write-protected huge PTE. MAP_SHARED
 * mappings never copy: the PTE is made writable (set_huge_ptep_writable).
 * We enter with the PT lock held; we return with it held.
 */
function hugetlb_wp(vmf: HugetlbVmFault): number {
  // hugetlb does not support FOLL_FORCE-style write faults that keep the
  // PTE mapped R/O such as maybe_mkwrite() would do.
  if (WARN_ON(!(vmf.vma.vm_flags & VM_WRITE), 'hugetlb_wp', `write fault in read-only ${vmf.vma}`)) return VM_FAULT_SIGSEGV;
  const pte = huge_ptep_get(vmf.pte!);
  if (pte.kind === 'present') set_huge_pte_at(vmf.pte!, mk_pte(pte.pfn, true, true));
  return 0;
}

/**
 * hugetlb_no_page(): the huge PTE is none. Find the file page in the page
 * cache, or allocate a zeroed one and add it (if within i_size), then map it
 * if the PTE is still what we saw.
 * We enter with the fault mutex and the vma_lock (read) held; we return with
 * both released.
 */
function* hugetlb_no_page(mapping: AddressSpace, vmf: HugetlbVmFault, hash: number): KGen<number> {
  const vma = vmf.vma;
  let ret = VM_FAULT_SIGBUS;
  // Use page lock to guard against racing truncation before we get the PT lock.
  let folio = yield* filemap_lock_hugetlb_folio(mapping, vmf.pgoff);
  let backout = false;
  if (!folio) {
    yield 'hugetlb_no_page: i_size_read';
    const size = Math.floor(mapping.host.i_size / HPAGE_NR_PAGES);
    if (vmf.pgoff >= size) return yield* hugetlb_no_page_out(vma, hash, ret);
    folio = yield* alloc_hugetlb_folio();
    if (!folio) {
      // The pool is empty. Before failing, make sure the PTE is still none:
      // a racing fault may have mapped the page (hugetlb_pte_stable).
      const ptl = yield* huge_pte_lock(vmf.pte!);
      const stable = pte_same(huge_ptep_get(vmf.pte!), vmf.orig_pte);
      yield* spin_unlock(ptl);
      return yield* hugetlb_no_page_out(vma, hash, stable ? VM_FAULT_SIGBUS : 0);
    }
    yield* folio_zero_user(folio);
    folio.flags |= PG_uptodate;
    if ((yield* hugetlb_add_to_page_cache(folio, mapping, vmf.pgoff)) !== 0) {
      hugetlb_folio_put(folio);
      return yield* hugetlb_no_page_out(vma, hash, VM_FAULT_SIGBUS);
    }
  }

  const ptl = yield* huge_pte_lock(vmf.pte!);
  ret = 0;
  // If pte changed from under us, retry.
  if (!pte_same(huge_ptep_get(vmf.pte!), vmf.orig_pte)) backout = true;
  else {
    folio._mapcount++; // hugetlb_add_file_rmap
    const writable = (vma.vm_flags & VM_WRITE) !== 0 && (vma.vm_flags & VM_SHARED) !== 0;
    set_huge_pte_at(vmf.pte!, mk_pte(folio.pfn, writable, writable && (vmf.flags & FAULT_FLAG_WRITE) !== 0));
  }
  yield* spin_unlock(ptl);
  yield* bit_unlock(folio.lock);
  // Backing out: the page stays in the page cache; we drop our reference.
  // Otherwise our reference is the mapping's.
  if (backout) hugetlb_folio_put(folio);
  return yield* hugetlb_no_page_out(vma, hash, ret);
}

/**
 * folio_zero_user(): clear a huge page subpage by subpage, with a
 * cond_resched() between subpages (process_huge_page): a long stretch of the
 * fault, spent holding the page-table pointer.
 */
function* folio_zero_user(folio: HugetlbFolio): KGen {
  for (let i = 0; i < HPAGE_NR_PAGES; i++) {
    yield* cond_resched();
    folio.data.fill(0, i * WORDS_PER_PAGE, (i + 1) * WORDS_PER_PAGE); // clear_user_highpage
  }
}

function* hugetlb_no_page_out(vma: VmArea, hash: number, ret: number): KGen<number> {
  yield* hugetlb_vma_unlock_read(vma);
  yield* mutex_unlock(hugetlb_fault_mutex(hash));
  return ret;
}

/**
 * The MMU's side of a huge PTE (the hardware walk of fault.ts's
 * user_access): the base page within the huge page by the address's offset.
 * Undefined when the access must fault.
 */
export function huge_pte_user_access(table: HugetlbPtPage, address: number, word: number, write: boolean, value: number): AccessResult | undefined {
  const pte = table.ptes[0]!;
  if (!pte_access_permitted(pte, write)) return undefined;
  const folio = hugetlb_pfn_folio(pte.pfn);
  const at = (address % HPAGE_NR_PAGES) * WORDS_PER_PAGE + word;
  if (!write) return { err: 0, value: folio.data[at]! };
  folio.data[at] = value;
  folio.flags |= PG_dirty;
  // The MMU sets the dirty bit itself, without the PT lock.
  if (!pte.dirty) table.ptes[0] = mk_pte(pte.pfn, true, true);
  return { err: 0, value };
}

/* ----------------------------------------------------------------- zap */

/**
 * __unmap_hugepage_range(): zap the huge PTEs of [start, end) of one VMA. A
 * page-table page we share is unshared instead: the other sharers keep
 * their entries. The unmapped folios are put once the range is done (the
 * TLB flush of mmu_gather).
 * We enter with the vma_lock and i_mmap_rwsem held for write.
 */
export function* __unmap_hugepage_range(tlb: MmuGather, vma: VmArea, start: number, end: number): KGen {
  const mm = vma.vm_mm;
  const unmapped: HugetlbFolio[] = [];
  BUG_ON(start % HPAGE_NR_PAGES !== 0 || end % HPAGE_NR_PAGES !== 0, '__unmap_hugepage_range', `[${start},${end}) not huge page aligned`);
  for (let address = start; address < end; address += HPAGE_NR_PAGES) {
    const ptep = hugetlb_walk(vma, address);
    if (!ptep) continue;
    const ptl = yield* huge_pte_lock(ptep);
    if (huge_pmd_unshare(mm, vma, address, ptep)) {
      yield* spin_unlock(ptl);
      continue;
    }
    const pte = huge_ptep_get(ptep);
    if (pte.kind !== 'present') {
      yield* spin_unlock(ptl);
      continue;
    }
    const folio = hugetlb_pfn_folio(pte.pfn);
    set_huge_pte_at(ptep, PTE_NONE); // huge_ptep_get_and_clear
    if (pte.dirty) folio.flags |= PG_dirty;
    BUG_ON(folio._mapcount <= 0, '__unmap_hugepage_range', `${folio.kname} mapcount underflow in ${vma}`);
    folio._mapcount--; // hugetlb_remove_rmap
    yield* spin_unlock(ptl);
    unmapped.push(folio); // tlb_remove_page_size
  }
  for (const f of unmapped) hugetlb_folio_put(f);
}

/**
 * __hugetlb_zap_begin() + __unmap_hugepage_range() + __hugetlb_zap_end():
 * unmap_single_vma() of a hugetlb VMA (the kernel's
 * __unmap_hugepage_range_final before 6.7). The final unmap (munmap, exit:
 * ZAP_FLAG_UNMAP) frees the vma_lock before it drops i_mmap_rwsem: from then
 * on the VMA cannot share (page_table_shareable), so nobody picks up the
 * page tables free_pgtables() is about to free.
 * We enter with mmap_lock held (the VMA detached, or zapped by DONTNEED).
 */
export function* __unmap_hugepage_range_final(tlb: MmuGather, vma: VmArea, start: number, end: number, zap_flags: number): KGen {
  const mapping = vma.vm_file!.f_mapping;
  yield* hugetlb_vma_lock_write(vma);
  yield* i_mmap_lock_write(mapping);
  yield* __unmap_hugepage_range(tlb, vma, start, end);
  if (zap_flags & ZAP_FLAG_UNMAP) yield* __hugetlb_vma_unlock_write_free(vma);
  else yield* hugetlb_vma_unlock_write(vma);
  yield* i_mmap_unlock_write(mapping);
}

/**
 * unmap_hugepage_range(): truncate's and hole punch's unmap of one VMA.
 * We enter with the vma_lock (if the VMA still has one) and i_mmap_rwsem
 * held for write.
 */
export function* unmap_hugepage_range(vma: VmArea, start: number, end: number): KGen {
  const tlb: MmuGather = { mm: vma.vm_mm, fullmm: false, folios: [] };
  yield* __unmap_hugepage_range(tlb, vma, start, end);
}

/**
 * hugetlb_vma_maps_pfn(): does vma map the huge page `pfn` at addr? We enter
 * with i_mmap_rwsem held, which keeps the page table from being unshared or
 * freed, but not the VMA's faults from filling its slot: a racy read.
 */
export function* hugetlb_vma_maps_pfn(vma: VmArea, addr: number, pfn: number): KGen<boolean> {
  yield 'hugetlb_vma_maps_pfn: hugetlb_walk';
  const ptep = hugetlb_walk(vma, addr);
  if (!ptep) return false;
  const pte = huge_ptep_get(ptep);
  return pte.kind === 'present' && pte.pfn === pfn;
}

/* ------------------------------------------------------------ mprotect */

/**
 * hugetlb_change_protection(): mprotect's walk of a hugetlb VMA. A shared
 * page-table page is unshared rather than changed under the other sharers.
 * We enter with mmap_lock held for write and vm_flags already updated; we
 * take the vma_lock and i_mmap_rwsem for write around the walk.
 */
export function* hugetlb_change_protection(vma: VmArea, start: number, end: number): KGen<number> {
  const mm = vma.vm_mm;
  const mapping = vma.vm_file!.f_mapping;
  let pages = 0;
  yield* hugetlb_vma_lock_write(vma);
  yield* i_mmap_lock_write(mapping);
  for (let address = huge_page_addr(start); address < end; address += HPAGE_NR_PAGES) {
    const ptep = hugetlb_walk(vma, address);
    if (!ptep) continue;
    const ptl = yield* huge_pte_lock(ptep);
    if (huge_pmd_unshare(mm, vma, address, ptep)) {
      pages++;
      yield* spin_unlock(ptl);
      continue;
    }
    const pte = huge_ptep_get(ptep);
    if (pte.kind === 'present') {
      // huge_pte_modify(): a shared mapping's PTE is writable iff VM_WRITE,
      // and protnone (PAGE_NONE) if the VMA allows no access at all.
      set_huge_pte_at(ptep, mk_pte(pte.pfn, (vma.vm_flags & VM_WRITE) !== 0, pte.dirty, !vma_is_accessible(vma)));
      pages++;
    }
    yield* spin_unlock(ptl);
  }
  // The TLB is flushed before i_mmap_rwsem goes: once it does, the last
  // sharer of a page we unshared may free it.
  yield* i_mmap_unlock_write(mapping);
  yield* hugetlb_vma_unlock_write(vma);
  return pages;
}

/* -------------------------------------------------------------- vm_ops */

/** vm_ops->may_split: a hugetlb VMA splits only at a huge page boundary. */
export function hugetlb_vm_op_split(addr: number): number {
  if (addr % HPAGE_NR_PAGES) return -EINVAL;
  // A split at a huge page boundary is a page-table-page boundary here, so
  // no PMD sharing range is cut in two (hugetlb_unshare_pmds is not needed).
  return 0;
}

/**
 * vm_ops->open: a VMA made by vm_area_dup() (split, fork) has the original's
 * vm_private_data; a shareable VMA gets a vma_lock of its own.
 */
export function hugetlb_vm_op_open(vma: VmArea): void {
  if (!(vma.vm_flags & VM_MAYSHARE)) return;
  const vma_lock = vma.vm_private_data;
  if (vma_lock && vma_lock.vma === vma) return; // pr_warn: already exists
  vma.vm_private_data = undefined;
  hugetlb_vma_lock_alloc(vma);
}

/** hugetlb_dup_vma_private(): fork's copy must not keep the parent's vma_lock. */
export function hugetlb_dup_vma_private(vma: VmArea): void {
  if (vma.vm_flags & VM_MAYSHARE) {
    const vma_lock = vma.vm_private_data;
    if (vma_lock && vma_lock.vma !== vma) vma.vm_private_data = undefined;
  }
}

/* -------------------------------------------------------------- madvise */

/**
 * madvise() on a hugetlb VMA. DONTNEED zaps whole huge pages
 * (madvise_dontneed_free_valid_vma: the start must be aligned, the end is
 * rounded down); a shared mapping's data stays in the file. WIPEONFORK is
 * for anonymous memory only; PAGEOUT and COLD skip hugetlb VMAs
 * (can_madv_lru_vma), WILLNEED has nothing to read ahead. undefined: the
 * generic flag update (DONTFORK, DOFORK, KEEPONFORK).
 * We enter with mmap_lock held (read for DONTNEED).
 */
export function* hugetlb_madvise(vma: VmArea, start: number, end: number, advice: string): KGen<number | undefined> {
  switch (advice) {
    case 'DONTNEED': {
      if (start % HPAGE_NR_PAGES) return -EINVAL;
      end = huge_page_addr(end);
      if (start < end) {
        const tlb: MmuGather = { mm: vma.vm_mm, fullmm: false, folios: [] };
        yield* __unmap_hugepage_range_final(tlb, vma, start, end, 0);
      }
      return 0;
    }
    case 'WIPEONFORK':
      return -EINVAL;
    case 'PAGEOUT':
    case 'COLD':
    case 'WILLNEED':
      return 0;
    default:
      return undefined;
  }
}
