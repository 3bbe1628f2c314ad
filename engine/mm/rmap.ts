/*
 * mm/rmap.c - physical to virtual reverse mappings, for the model.
 *
 * Lock ordering in mm (from mm/rmap.c; the model takes its locks in this order,
 * and lockdep is seeded with it: MM_LOCK_ORDER below is this block as data, so
 * an acquisition that inverts it is reported even in a run where only one
 * order occurs):
 *
 * inode->i_rwsem	(while writing or truncating, not reading or faulting)
 *   mm->mmap_lock
 *     mapping->invalidate_lock (in filemap_fault)
 *       folio_lock
 *         hugetlbfs_i_mmap_rwsem_key (in huge_pmd_share, see hugetlbfs below)
 *           vma_start_write
 *             mapping->i_mmap_rwsem
 *               anon_vma->rwsem
 *                 mm->page_table_lock or pte_lock
 *                   swap_lock (in swap_duplicate, swap_info_get)
 *                     mmlist_lock (in mmput, drain_mmlist and others)
 *                     mapping->private_lock (in block_dirty_folio)
 *                       i_pages lock (widely used)
 *                         lruvec->lru_lock (in folio_lruvec_lock_irq)
 *                     inode->i_lock (in set_page_dirty's __mark_inode_dirty)
 *                     bdi.wb->list_lock (in set_page_dirty's __mark_inode_dirty)
 *                       sb_lock (within inode_lock in fs/fs-writeback.c)
 *                       i_pages lock (widely used, in set_page_dirty,
 *                                 in arch-dependent flush_dcache_mmap_lock,
 *                                 within bdi.wb->list_lock in __sync_single_inode)
 *
 * anon_vma->rwsem,mapping->i_mmap_rwsem   (memory_failure, collect_procs_anon)
 *   ->tasklist_lock
 *     pte map lock
 *
 * hugetlbfs PageHuge() take locks in this order:
 *   hugetlb_fault_mutex (hugetlbfs specific page fault mutex)
 *     vma_lock (hugetlb specific lock for pmd_sharing)
 *       mapping->i_mmap_rwsem (also used for hugetlb pmd sharing)
 *         folio_lock
 *
 * The model's anon side: the interval tree of an anon_vma is a list of AVCs
 * sorted by vm_pgoff, a new AVC going after those with an equal key, as the
 * kernel's rbtree insert does. That order is what lets mremap and fork skip
 * the rmap locks: a walk sees the parent (or old) VMA before the child (or
 * new) one, so it finds a moving PTE at one end or the other.
 */
import { down_read, down_read_trylock, down_write, up_read, up_write } from '../locking/rwsem.ts';
import { call_rcu, rcu_read_lock, rcu_read_unlock } from '../locking/rcu.ts';
import { spin_lock, spin_unlock, type Spinlock } from '../locking/spinlock.ts';
import { BUG_ON, WARN_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { kfree } from './kasan.ts';
import {
  AnonVma,
  AnonVmaChain,
  EBUSY,
  HPAGE_PMD_NR,
  MMF_HAS_PINNED,
  PG_anon,
  PG_anon_exclusive,
  PTE_NONE,
  PG_dirty,
  PG_swapbacked,
  is_pmd_migration_entry,
  pmd_is_huge,
  pmd_trans_huge,
  type Folio,
  type StructPage,
  type Pte,
  type PteMigration,
  type PteSwap,
  type PteTable,
  type VmArea,
} from './mm_types.ts';
import { machine } from './machine.ts';
import { folio_put } from './page_alloc.ts';
import { pmd_index, pmd_lock, pte_offset_map_lock, ptep_get, set_pte_at } from './pgtable.ts';
import { swap_duplicate, swap_free } from './swapfile.ts';
import { find_mergeable_anon_vma } from './vma.ts';
import { mmap_assert_locked } from './mmap_lock.ts';
import { i_mmap_lock_read, i_mmap_unlock_read, vma_interval_tree_foreach } from '../fs/fs.ts';
import { folio_add_large_mapcount, folio_set_large_mapcount, folio_sub_large_mapcount } from './rmap_mm_id.ts';

/**
 * The block above as data, in the model's lock class names: each chain lists
 * classes outermost first, each taken before the next. Left out, with why:
 * - mapping->invalidate_lock, mapping->private_lock, lruvec->lru_lock,
 *   inode->i_lock, bdi.wb->list_lock, sb_lock, tasklist_lock: not modelled;
 * - a plain mapping->i_mmap_rwsem: the model's only files are hugetlbfs
 *   ones, whose i_mmap_rwsem has its own class (hugetlbfs_i_mmap_rwsem_key);
 * - inode->i_rwsem: the block's "while writing or truncating" is about a
 *   write() that faults on its user buffer under i_rwsem; hugetlbfs has no
 *   write(), and its hugetlbfs_file_mmap() takes inode_lock() with the
 *   mmap_lock held, so for the model's only inodes the order is the reverse;
 * - folio_lock: the block puts it both above hugetlbfs_i_mmap_rwsem_key
 *   (huge_pmd_share) and below mapping->i_mmap_rwsem (hugetlbfs), and above
 *   vma_start_write while every per-VMA-locked fault takes it under the VMA
 *   read lock. Linux's lockdep does not track the folio lock; the model's
 *   does, and learns its order per run.
 * shmem (engine/mm/shmem.ts) adds the inode's i_rwsem of its own class
 * (truncate and hole punch hold it over unmap_mapping_range, which takes
 * i_mmap_rwsem for read and then the PT locks) and the plain
 * mapping->i_mmap_rwsem of a file that is not hugetlbfs, taken for read
 * under the folio lock by rmap_walk_file and for write under mmap_lock by
 * vma_link_file. The mapping's i_pages lock (mapping->i_pages) and
 * shmem_swaplist_mutex are taken with nothing of the block above held but
 * the folio lock, so they have no chain here.
 */
export const MM_LOCK_ORDER: readonly (readonly string[])[] = [
  ['mmap_lock', 'vma->vm_lock', 'anon_vma->rwsem', 'mm->page_table_lock', 'swap_lock', 'mmlist_lock'],
  ['mmap_lock', 'hugetlbfs_i_mmap_rwsem_key', 'anon_vma->rwsem', 'ptlock', 'swap_lock', 'swap_cache->i_pages'],
  ['hugetlb_fault_mutex', 'hugetlb_vma_lock', 'hugetlbfs_i_mmap_rwsem_key'],
  ['shmem: inode->i_rwsem', 'mapping->i_mmap_rwsem', 'anon_vma->rwsem', 'ptlock', 'si->lock'],
  ['mmap_lock', 'mapping->i_mmap_rwsem'],
];

/* ------------------------------------------------------ anon_vma locking */

export function* anon_vma_lock_write(anon_vma: AnonVma): KGen {
  yield* down_write(anon_vma.root.rwsem);
}

export function* anon_vma_unlock_write(anon_vma: AnonVma): KGen {
  yield* up_write(anon_vma.root.rwsem);
}

export function* anon_vma_lock_read(anon_vma: AnonVma): KGen {
  yield* down_read(anon_vma.root.rwsem);
}

export function* anon_vma_unlock_read(anon_vma: AnonVma): KGen {
  yield* up_read(anon_vma.root.rwsem);
}

function anon_vma_alloc(): AnonVma {
  // refcount 1, root = self: anon_vma_fork() re-roots it at the parent's root.
  return new AnonVma();
}

/**
 * anon_vma_free(): the lock/unlock pair synchronises with a concurrent
 * folio_lock_anon_vma_read() that took the root lock before we dropped the
 * last reference. The memory is SLAB_TYPESAFE_BY_RCU: freed after a grace
 * period, so a reader that looked it up under RCU never touches freed memory.
 */
function* anon_vma_free(anon_vma: AnonVma): KGen {
  BUG_ON(anon_vma.refcount !== 0, 'anon_vma_free', `refcount ${anon_vma.refcount}`);
  if (anon_vma.root.rwsem.isLocked()) {
    yield* anon_vma_lock_write(anon_vma);
    yield* anon_vma_unlock_write(anon_vma);
  }
  call_rcu(() => kfree(anon_vma));
}

export function get_anon_vma(anon_vma: AnonVma): void {
  anon_vma.refcount++;
}

export function* put_anon_vma(anon_vma: AnonVma): KGen {
  if (--anon_vma.refcount === 0) yield* __put_anon_vma(anon_vma);
}

function* __put_anon_vma(anon_vma: AnonVma): KGen {
  const root = anon_vma.root;
  yield* anon_vma_free(anon_vma);
  if (root !== anon_vma && --root.refcount === 0) yield* anon_vma_free(root);
}

/* ----------------------------------------------------- the interval tree */

/** anon_vma_interval_tree_insert(): sorted by vm_pgoff, after equal keys. */
function anon_vma_interval_tree_insert(avc: AnonVmaChain, anon_vma: AnonVma): void {
  const tree = anon_vma.rb_root;
  const key = avc.vma.vm_pgoff;
  let i = tree.length;
  while (i > 0 && tree[i - 1]!.vma.vm_pgoff > key) i--;
  tree.splice(i, 0, avc);
}

function anon_vma_interval_tree_remove(avc: AnonVmaChain, anon_vma: AnonVma): void {
  const tree = anon_vma.rb_root;
  const i = tree.indexOf(avc);
  BUG_ON(i < 0, 'anon_vma_interval_tree_remove', `${avc.kname} not in ${anon_vma.kname}`);
  tree.splice(i, 1);
}

/**
 * anon_vma_interval_tree_pre_update_vma() / _post_update_vma(): vm_pgoff is
 * the tree key, so a VMA whose start or pgoff changes is taken out and put
 * back. We enter and return with the anon_vma lock held for write.
 */
export function anon_vma_interval_tree_pre_update_vma(vma: VmArea): void {
  for (const avc of vma.anon_vma_chain) anon_vma_interval_tree_remove(avc, avc.anon_vma);
}

export function anon_vma_interval_tree_post_update_vma(vma: VmArea): void {
  for (const avc of vma.anon_vma_chain) anon_vma_interval_tree_insert(avc, avc.anon_vma);
}

function anon_vma_chain_link(vma: VmArea, avc: AnonVmaChain, anon_vma: AnonVma): void {
  vma.anon_vma_chain.unshift(avc); // list_add(&avc->same_vma, &vma->anon_vma_chain)
  anon_vma_interval_tree_insert(avc, anon_vma);
}

/* -------------------------------------------------- attaching anon_vmas */

/**
 * anon_vma_prepare(): attach an anon_vma to a VMA that is about to get its
 * first anonymous page.
 * We enter with mmap_lock held for read; we return with it. 0 or -ENOMEM.
 */
export function* anon_vma_prepare(vma: VmArea): KGen<number> {
  yield 'anon_vma_prepare: read vma->anon_vma';
  if (vma.anon_vma) return 0;
  return yield* __anon_vma_prepare(vma);
}

function* __anon_vma_prepare(vma: VmArea): KGen<number> {
  const mm = vma.vm_mm;
  // Never under the per-VMA lock alone: the neighbours it reads are not locked.
  mmap_assert_locked(mm, '__anon_vma_prepare');
  // A neighbour's anon_vma if it can be shared (so that the VMAs may merge
  // again after an mprotect), else a new one.
  let anon_vma = yield* find_mergeable_anon_vma(vma);
  let allocated: AnonVma | undefined;
  if (!anon_vma) anon_vma = allocated = anon_vma_alloc();
  let avc: AnonVmaChain | undefined = new AnonVmaChain(vma, anon_vma);

  yield* anon_vma_lock_write(anon_vma);
  // page_table_lock to protect against threads
  yield* spin_lock(mm.page_table_lock);
  if (!vma.anon_vma) {
    vma.anon_vma = anon_vma;
    anon_vma_chain_link(vma, avc, anon_vma);
    anon_vma.num_active_vmas++;
    allocated = undefined;
    avc = undefined;
  }
  yield* spin_unlock(mm.page_table_lock);
  yield* anon_vma_unlock_write(anon_vma);

  if (allocated) yield* put_anon_vma(allocated);
  if (avc) kfree(avc);
  return 0;
}

/**
 * lock_anon_vma_root(): all anon_vmas of one VMA share a root; take its
 * rwsem once for the whole traversal.
 */
function* lock_anon_vma_root(root: AnonVma | undefined, anon_vma: AnonVma): KGen<AnonVma> {
  const new_root = anon_vma.root;
  if (new_root !== root) {
    if (root) yield* up_write(root.rwsem);
    root = new_root;
    yield* down_write(root.rwsem);
  }
  return root;
}

function* unlock_anon_vma_root(root: AnonVma | undefined): KGen {
  if (root) yield* up_write(root.rwsem);
}

/**
 * anon_vma_clone(): attach the anon_vmas of src to dst (split, copy_vma, fork).
 * We enter with mmap_lock held for write. 0 or -ENOMEM.
 */
export function* anon_vma_clone(dst: VmArea, src: VmArea): KGen<number> {
  let root: AnonVma | undefined;
  // list_for_each_entry_reverse: oldest first, so dst's chain ends up in src's order.
  for (let i = src.anon_vma_chain.length - 1; i >= 0; i--) {
    const pavc = src.anon_vma_chain[i]!;
    const anon_vma = pavc.anon_vma;
    const avc = new AnonVmaChain(dst, anon_vma);
    root = yield* lock_anon_vma_root(root, anon_vma);
    anon_vma_chain_link(dst, avc, anon_vma);
  }
  if (dst.anon_vma) dst.anon_vma.num_active_vmas++;
  yield* unlock_anon_vma_root(root);
  return 0;
}

/**
 * anon_vma_fork(): attach the child's VMA to the parent VMA's anon_vmas, so
 * rmap finds pages not yet COWed in the child, then give it an anon_vma of
 * its own for the pages it COWs.
 * We enter with both mms' mmap_locks held for write. 0 or -ENOMEM.
 */
export function* anon_vma_fork(vma: VmArea, pvma: VmArea): KGen<number> {
  // Don't bother if the parent process has no anon_vma here.
  if (!pvma.anon_vma) return 0;
  // Drop the inherited anon_vma: we allocate our own below.
  vma.anon_vma = undefined;

  // First, attach the new VMA to the parent VMA's anon_vmas.
  const err = yield* anon_vma_clone(vma, pvma);
  if (err) return err;

  // Then add our own anon_vma.
  const anon_vma = anon_vma_alloc();
  anon_vma.num_active_vmas++;
  const avc = new AnonVmaChain(vma, anon_vma);

  // The root anon_vma's rwsem is the lock actually used when we lock any of
  // the anon_vmas in this anon_vma tree.
  anon_vma.root = pvma.anon_vma.root;
  anon_vma.parent = pvma.anon_vma;
  // The root must stay until this anon_vma is freed: the lock lives there.
  get_anon_vma(anon_vma.root);
  // Mark this anon_vma as the one where our new (COWed) pages go.
  vma.anon_vma = anon_vma;
  yield* anon_vma_lock_write(anon_vma);
  anon_vma_chain_link(vma, avc, anon_vma);
  anon_vma.parent.num_children++;
  yield* anon_vma_unlock_write(anon_vma);
  return 0;
}

/**
 * unlink_anon_vmas(): detach a VMA that is going away from all its anon_vmas,
 * freeing those left empty.
 * We enter with mmap_lock held (for write, or for read on a detached VMA).
 */
export function* unlink_anon_vmas(vma: VmArea): KGen {
  let root: AnonVma | undefined;
  const chain = vma.anon_vma_chain;
  const empty: AnonVmaChain[] = [];
  // Newest to oldest, so that the root anon_vma is freed last.
  for (const avc of [...chain]) {
    const anon_vma = avc.anon_vma;
    root = yield* lock_anon_vma_root(root, anon_vma);
    anon_vma_interval_tree_remove(avc, anon_vma);
    // Leave empty anon_vmas on the list: they are freed outside the lock.
    if (anon_vma.rb_root.length === 0) {
      anon_vma.parent.num_children--;
      empty.push(avc);
      continue;
    }
    chain.splice(chain.indexOf(avc), 1);
    kfree(avc);
  }
  if (vma.anon_vma) {
    vma.anon_vma.num_active_vmas--;
    vma.anon_vma = undefined;
  }
  yield* unlock_anon_vma_root(root);

  // __put_anon_vma() needs the root lock for write: free outside it.
  for (const avc of empty) {
    yield* put_anon_vma(avc.anon_vma);
    chain.splice(chain.indexOf(avc), 1);
    kfree(avc);
  }
}

/* ------------------------------------------------- adding/removing rmaps */

/** linear_page_index(): the folio->index a page at `address` in `vma` gets. */
export function linear_page_index(vma: VmArea, address: number): number {
  return address - vma.vm_start + vma.vm_pgoff;
}

/**
 * folio_add_new_anon_rmap(): a fresh anon folio's first mapping. Fresh anon
 * folios are exclusive (RMAP_EXCLUSIVE): only this PTE maps them. A THP's
 * first mapping is its PMD: the entire mapcount, and PG_anon_exclusive on the
 * head page only (folio_test_pmd_mappable: the head speaks for the PMD).
 * We enter with the PT lock (the PMD lock for a THP) held.
 */
export function folio_add_new_anon_rmap(folio: Folio, vma: VmArea, address: number, exclusive: boolean): void {
  BUG_ON(!vma.anon_vma, 'folio_add_new_anon_rmap', `${vma} has no anon_vma`);
  BUG_ON(folio_test_anon(folio), 'folio_add_new_anon_rmap', `${folio.kname} is already anon`);
  BUG_ON(folio._mapcount !== 0, 'folio_add_new_anon_rmap', `${folio.kname} already mapped`);
  folio._mapcount = 1;
  folio.flags |= PG_swapbacked; // __folio_set_swapbacked()
  __folio_set_anon(folio, vma, address, exclusive);
  if (folio.order) {
    folio_set_large_mapcount(folio, 1, vma);
    folio.flags &= ~PG_anon_exclusive;
    folio._entire_mapcount = 1;
    if (exclusive) folio.pages![0]!.flags |= PG_anon_exclusive;
  }
}

function __folio_set_anon(folio: Folio, vma: VmArea, address: number, exclusive: boolean): void {
  // If the folio isn't exclusive to this vma, we must use the _oldest_
  // possible anon_vma for the folio mapping: only the root's tree is sure to
  // hold every VMA that may map it.
  folio.mapping = exclusive ? vma.anon_vma : vma.anon_vma!.root;
  folio.index = linear_page_index(vma, address);
  folio.flags |= PG_anon;
  if (exclusive) folio.flags |= PG_anon_exclusive;
  else folio.flags &= ~PG_anon_exclusive;
}

/**
 * __page_check_anon_rmap(): the page must belong to this VMA's anon_vma tree
 * and sit at the address rmap will compute for it. A mismatch means rmap can
 * no longer find this PTE.
 */
function __page_check_anon_rmap(folio: Folio, vma: VmArea, address: number, subpage = 0): void {
  BUG_ON(
    !vma.anon_vma || folio.mapping!.root !== vma.anon_vma.root,
    '__page_check_anon_rmap',
    `${folio.kname} anon_vma root differs from ${vma}'s`,
  );
  BUG_ON(
    folio.index + subpage !== linear_page_index(vma, address),
    '__page_check_anon_rmap',
    `${folio.kname} index ${folio.index + subpage} mapped at ${address} in ${vma} (pgoff ${vma.vm_pgoff}) expects ${linear_page_index(vma, address)}`,
  );
}

/**
 * folio_add_anon_rmap_pte(): map a folio that is already anon (a swap cache
 * folio unmapped by reclaim keeps folio->mapping; migration's new folio
 * copies it). RMAP_EXCLUSIVE restores PG_anon_exclusive.
 * We enter with the PT lock and the folio lock held.
 */
export function folio_add_anon_rmap_pte(folio: Folio, vma: VmArea, address: number, exclusive: boolean): void {
  BUG_ON(!folio.lock.isLocked(), 'folio_add_anon_rmap_pte', `${folio.kname} not locked`);
  BUG_ON(!folio_test_anon(folio), 'folio_add_anon_rmap_pte', `${folio.kname} is not anon`);
  folio._mapcount++;
  if (folio.order) folio_add_large_mapcount(folio, 1, vma);
  __page_check_anon_rmap(folio, vma, address);
  if (exclusive) folio.flags |= PG_anon_exclusive;
}

/**
 * folio_add_file_rmap_ptes() for one page: a page-cache folio gains a PTE
 * (set_pte_range). Its rmap is the file's i_mmap tree, found from
 * folio->mapping and folio->index: nothing to set up but the count.
 * We enter with the PT lock held and the folio locked (the fault's).
 */
export function folio_add_file_rmap_ptes(folio: Folio, vma: VmArea): void {
  BUG_ON(folio_test_anon(folio), 'folio_add_file_rmap_ptes', `${folio.kname} is anon, mapped in ${vma}`);
  folio._mapcount++;
}

/** folio_dup_file_rmap_pte(): fork copies a PTE of a page-cache folio (a private file VMA with an anon_vma). */
export function folio_dup_file_rmap_pte(folio: Folio): void {
  folio._mapcount++;
}

/**
 * folio_add_anon_rmap_ptes(): nr PTEs from `page` on map an anon folio that
 * is already mapped (a THP whose PMD is being split); RMAP_EXCLUSIVE marks
 * each of those pages exclusive. We enter with the PT lock held.
 */
export function folio_add_anon_rmap_ptes(folio: Folio, page: StructPage, nr: number, vma: VmArea, address: number, exclusive: boolean): void {
  BUG_ON(!folio_test_anon(folio), 'folio_add_anon_rmap_ptes', `${folio.kname} is not anon`);
  const first = page.pfn - folio.pfn;
  for (let i = 0; i < nr; i++) {
    const p = folio_page_of(folio, first + i);
    if (p !== folio) p._mapcount++;
    if (exclusive) p.flags |= PG_anon_exclusive;
  }
  folio._mapcount += nr;
  if (folio.order) folio_add_large_mapcount(folio, nr, vma);
  __page_check_anon_rmap(folio, vma, address, first);
}

/**
 * folio_remove_rmap_pte(): one PTE less maps `page` (of folio). We enter with
 * the PT lock held.
 */
export function folio_remove_rmap_pte(folio: Folio, vma: VmArea, page: StructPage = folio): void {
  BUG_ON(folio._mapcount <= 0, 'folio_remove_rmap_pte', `${folio.kname} mapcount underflow in ${vma}`);
  if (page !== folio) {
    BUG_ON(page._mapcount <= 0, 'folio_remove_rmap_pte', `page ${page.pfn} of ${folio.kname} mapcount underflow in ${vma}`);
    page._mapcount--;
  }
  folio._mapcount--;
  if (folio.order) folio_sub_large_mapcount(folio, 1, vma);
}

/**
 * folio_add_anon_rmap_pmd(): a THP that is already anon is mapped by a PMD
 * again (remove_migration_pmd: the new THP copied folio->mapping and index);
 * RMAP_EXCLUSIVE sets the head page's PG_anon_exclusive, which speaks for
 * the PMD. We enter with the PMD lock held and the folio locked.
 */
export function folio_add_anon_rmap_pmd(folio: Folio, page: StructPage, vma: VmArea, address: number, exclusive: boolean): void {
  BUG_ON(!folio.lock.isLocked(), 'folio_add_anon_rmap_pmd', `${folio.kname} not locked`);
  BUG_ON(!folio_test_anon(folio) || !folio.order, 'folio_add_anon_rmap_pmd', `${folio.kname} is not an anon THP`);
  folio._entire_mapcount++;
  folio._mapcount++;
  folio_add_large_mapcount(folio, 1, vma);
  __page_check_anon_rmap(folio, vma, address);
  if (exclusive) page.flags |= PG_anon_exclusive;
}

/** folio_remove_rmap_pmd(): the PMD that mapped the whole THP is gone. We enter with the PMD lock held. */
export function folio_remove_rmap_pmd(folio: Folio, vma: VmArea): void {
  BUG_ON(folio._entire_mapcount <= 0 || folio._mapcount <= 0, 'folio_remove_rmap_pmd', `${folio.kname} entire mapcount underflow in ${vma}`);
  folio._entire_mapcount--;
  folio._mapcount--;
  folio_sub_large_mapcount(folio, 1, vma);
}

/** A small folio is its own page; a large one's i-th subpage. */
function folio_page_of(folio: Folio, i: number): StructPage {
  return folio.order ? folio.pages![i]! : folio;
}

/** PageAnonExclusive(): of a page (a small folio, or a THP's subpage; the head page for a PMD mapping). */
export function PageAnonExclusive(page: StructPage): boolean {
  return (page.flags & PG_anon_exclusive) !== 0;
}

export function folio_test_anon(folio: Folio): boolean {
  return (folio.flags & PG_anon) !== 0;
}

export function folio_maybe_dma_pinned(folio: Folio): boolean {
  return folio._pincount > 0;
}

/** folio_needs_cow_for_dma(): only mms that ever pinned can have pinned pages. */
export function folio_needs_cow_for_dma(vma: VmArea, folio: Folio): boolean {
  if (!(vma.vm_mm.flags & MMF_HAS_PINNED)) return false;
  return folio_maybe_dma_pinned(folio);
}

/**
 * folio_try_dup_anon_rmap_pte(): fork's duplicate step. An exclusive page
 * becomes possibly shared, unless it may be pinned: then the caller must copy
 * it for the child (-EBUSY), so the pin keeps seeing the parent's page. The
 * new mapping is the child's (dst_vma: its mm's slot, CONFIG_MM_ID).
 * We enter with the source PT lock held and write_protect_seq odd.
 */
export function folio_try_dup_anon_rmap_pte(folio: Folio, dst_vma: VmArea, src_vma: VmArea, page: StructPage = folio): number {
  if (PageAnonExclusive(page)) {
    if (folio_needs_cow_for_dma(src_vma, folio)) return -EBUSY;
    page.flags &= ~PG_anon_exclusive;
  }
  if (page !== folio) page._mapcount++;
  folio._mapcount++;
  if (folio.order) folio_add_large_mapcount(folio, 1, dst_vma);
  return 0;
}

/**
 * folio_try_dup_anon_rmap_pmd(): fork's duplicate of a PMD-mapped THP. The
 * head page's bit is the PMD's exclusivity; a pin of any subpage makes the
 * whole folio maybe-pinned (folio->_pincount), and then the caller splits
 * the PMD and copies PTE by PTE (-EBUSY).
 * We enter with both PMD locks held and write_protect_seq odd.
 */
export function folio_try_dup_anon_rmap_pmd(folio: Folio, dst_vma: VmArea, src_vma: VmArea): number {
  const head = folio.pages![0]!;
  if (PageAnonExclusive(head)) {
    if (folio_needs_cow_for_dma(src_vma, folio)) return -EBUSY;
    head.flags &= ~PG_anon_exclusive;
  }
  folio._entire_mapcount++;
  folio._mapcount++;
  folio_add_large_mapcount(folio, 1, dst_vma);
  return 0;
}

/**
 * folio_try_share_anon_rmap_pte(): swap-out and migration unmap an exclusive
 * page, so it becomes possibly shared; a page that may be pinned cannot be,
 * and then the unmap fails. We enter with the PT lock held and the PTE cleared.
 */
export function folio_try_share_anon_rmap_pte(folio: Folio, page: StructPage = folio): number {
  BUG_ON(!PageAnonExclusive(page), 'folio_try_share_anon_rmap_pte', `${folio.kname} not exclusive`);
  if (folio_maybe_dma_pinned(folio)) return -EBUSY;
  page.flags &= ~PG_anon_exclusive;
  return 0;
}

/**
 * folio_try_share_anon_rmap_pmd(): as folio_try_share_anon_rmap_pte(), for a
 * PMD-mapped THP whose head page speaks for the PMD; a pin of any subpage
 * makes the folio maybe-pinned. We enter with the PMD lock held and the PMD
 * invalidated (see __split_huge_pmd_locked with freeze).
 */
export function folio_try_share_anon_rmap_pmd(folio: Folio, page: StructPage): number {
  BUG_ON(!PageAnonExclusive(page), 'folio_try_share_anon_rmap_pmd', `${folio.kname} not exclusive`);
  if (folio_maybe_dma_pinned(folio)) return -EBUSY;
  page.flags &= ~PG_anon_exclusive;
  return 0;
}

/**
 * folio_likely_mapped_shared(): a guess (include/linux/mm.h). A small folio
 * by its mapcount; a large one is shared if anything maps it more than once:
 * a PMD among other mappings, more mappings than pages, or else its first
 * page mapped more than once.
 */
export function folio_likely_mapped_shared(folio: Folio): boolean {
  const mapcount = folio._mapcount;
  if (!folio.order) return mapcount > 1;
  if (mapcount <= 1) return false;
  if (folio._entire_mapcount > 0 || mapcount > 1 << folio.order) return true;
  return folio.pages![0]!._mapcount > 1;
}

/**
 * folio_move_anon_rmap(): do_wp_page reuses a folio it now knows to be
 * exclusive: move it to the VMA's own anon_vma so rmap walks stay short.
 * We enter with the folio lock held.
 */
export function folio_move_anon_rmap(folio: Folio, vma: VmArea): void {
  BUG_ON(!folio.lock.isLocked(), 'folio_move_anon_rmap', `${folio.kname} not locked`);
  folio.mapping = vma.anon_vma;
}

/* -------------------------------------------------------------- rmap walk */

/** struct rmap_walk_control */
export interface RmapWalkControl {
  /** Called for each VMA that may map the folio; false stops the walk. */
  rmap_one(folio: Folio, vma: VmArea, address: number): KGen<boolean>;
  /** VMAs to skip (migration skips exec's incomplete stack). */
  invalid_vma?(vma: VmArea): boolean;
  /** Stop early once this holds (e.g. the folio is no longer mapped). */
  done?(folio: Folio): boolean;
  /**
   * How to lock the anon_vma: folio_lock_anon_vma_read() (checks the folio is
   * still mapped; for try_to_unmap / try_to_migrate), or by default straight
   * from folio->mapping, for a caller that holds a reference on the anon_vma
   * (remove_migration_ptes on a folio nothing maps yet).
   */
  anon_lock?(folio: Folio): KGen<AnonVma | undefined>;
  /**
   * rmap_walk_locked(): the caller holds the anon_vma lock already
   * (split_huge_page's anon_vma_lock_write, TTU_RMAP_LOCKED / RMP_LOCKED).
   */
  locked?: boolean;
}

/** rmap_walk_anon_lock(): lock folio->mapping's root; the caller keeps the anon_vma alive. */
function* rmap_walk_anon_lock(folio: Folio): KGen<AnonVma | undefined> {
  yield 'rmap_walk_anon_lock: read folio->mapping';
  const anon_vma = folio.mapping;
  if (!anon_vma) return undefined;
  yield* anon_vma_lock_read(anon_vma);
  return anon_vma;
}

/**
 * folio_get_anon_vma(): a reference on the folio's anon_vma, taken while it
 * is still mapped, so that it outlives the unmap (migration).
 */
export function* folio_get_anon_vma(folio: Folio): KGen<AnonVma | undefined> {
  rcu_read_lock();
  yield 'folio_get_anon_vma: read folio->mapping';
  let anon_vma = folio_test_anon(folio) ? folio.mapping : undefined;
  if (anon_vma && (folio._mapcount === 0 || anon_vma.refcount === 0)) anon_vma = undefined;
  if (anon_vma) anon_vma.refcount++;
  rcu_read_unlock();
  return anon_vma;
}

/**
 * folio_lock_anon_vma_read(): the anon_vma of a mapped folio, locked for
 * read, or undefined. folio->mapping is only stable while the folio is
 * mapped; RCU keeps the anon_vma's memory valid while we look.
 */
export function* folio_lock_anon_vma_read(folio: Folio): KGen<AnonVma | undefined> {
  rcu_read_lock();
  yield 'folio_lock_anon_vma_read: read folio->mapping';
  let anon_vma = folio_test_anon(folio) ? folio.mapping : undefined;
  if (!anon_vma || folio._mapcount === 0) {
    rcu_read_unlock();
    return undefined;
  }
  const root_anon_vma = anon_vma.root;
  if (yield* down_read_trylock(root_anon_vma.rwsem)) {
    // Still mapped: the anon_vma is still its anon_vma, and holding the lock
    // keeps it from going away (see anon_vma_free).
    if (folio._mapcount === 0) {
      yield* up_read(root_anon_vma.rwsem);
      anon_vma = undefined;
    }
    rcu_read_unlock();
    return anon_vma;
  }
  // trylock failed, we got to sleep: pin the anon_vma first.
  if (anon_vma.refcount === 0) {
    rcu_read_unlock();
    return undefined;
  }
  anon_vma.refcount++;
  if (folio._mapcount === 0) {
    rcu_read_unlock();
    yield* put_anon_vma(anon_vma);
    return undefined;
  }
  rcu_read_unlock();
  yield* anon_vma_lock_read(anon_vma);
  if (--anon_vma.refcount === 0) {
    // We held the last reference: cannot put_anon_vma() under the lock.
    yield* anon_vma_unlock_read(anon_vma);
    yield* __put_anon_vma(anon_vma);
    return undefined;
  }
  return anon_vma;
}

/**
 * vma_address(): where rmap expects the folio in this VMA, computed from
 * vm_start and vm_pgoff, or -1 if outside it. The reads are unlocked against
 * anyone who changes them without the anon_vma lock (see relocate_vma_down):
 * that is the race of seed 000.
 */
function* vma_address(folio: Folio, vma: VmArea): KGen<number> {
  yield 'vma_address: read vm_start/vm_pgoff';
  const address = vma.vm_start + (folio.index - vma.vm_pgoff);
  if (address >= vma.vm_start && address < vma.vm_end) return address;
  // A large folio that starts before the VMA: its first page inside it.
  const nr_pages = 1 << folio.order;
  if (folio.index < vma.vm_pgoff && folio.index + nr_pages - 1 >= vma.vm_pgoff && vma.vm_start < vma.vm_end) return vma.vm_start;
  return -1;
}

/**
 * rmap_walk_anon(): visit every VMA of the folio's anon_vma tree whose range
 * covers the folio's index.
 * We enter with the folio locked; we return with it locked.
 */
export function* rmap_walk_anon(folio: Folio, rwc: RmapWalkControl): KGen {
  const anon_vma = rwc.locked ? folio.mapping : rwc.anon_lock ? yield* rwc.anon_lock(folio) : yield* rmap_walk_anon_lock(folio);
  if (!anon_vma) return;
  // anon_vma_interval_tree_foreach(avc, &anon_vma->rb_root, pgoff_start, pgoff_end)
  const pgoff_start = folio.index;
  const pgoff_end = pgoff_start + (1 << folio.order) - 1;
  for (const avc of [...anon_vma.rb_root]) {
    const vma = avc.vma;
    if (pgoff_end < vma.vm_pgoff || pgoff_start >= vma.vm_pgoff + (vma.vm_end - vma.vm_start)) continue;
    const address = yield* vma_address(folio, vma);
    if (address < 0) continue;
    if (rwc.invalid_vma?.(vma)) continue;
    if (!(yield* rwc.rmap_one(folio, vma, address))) break;
    if (rwc.done?.(folio)) break;
  }
  if (!rwc.locked) yield* anon_vma_unlock_read(anon_vma);
}

/**
 * rmap_walk_file(): visit every VMA of the file's i_mmap tree that maps the
 * folio's index, under i_mmap_rwsem for read. The folio lock keeps
 * folio->mapping stable: truncate removes a folio from the page cache only
 * under it.
 * We enter with the folio locked; we return with it locked.
 */
export function* rmap_walk_file(folio: Folio, rwc: RmapWalkControl): KGen {
  const mapping = folio.f_mapping;
  if (!mapping) return;
  const pgoff = folio.index;
  yield* i_mmap_lock_read(mapping);
  for (const vma of vma_interval_tree_foreach(mapping, pgoff, pgoff)) {
    const address = yield* vma_address(folio, vma);
    BUG_ON(address < 0, 'rmap_walk_file', `${vma} (pgoff ${vma.vm_pgoff}) in i_mmap does not cover index ${pgoff}`);
    if (rwc.invalid_vma?.(vma)) continue;
    if (!(yield* rwc.rmap_one(folio, vma, address))) break;
    if (rwc.done?.(folio)) break;
  }
  yield* i_mmap_unlock_read(mapping);
}

export function* rmap_walk(folio: Folio, rwc: RmapWalkControl): KGen {
  BUG_ON(!folio.lock.isLocked(), 'rmap_walk', `${folio.kname} not locked`);
  if (folio_test_anon(folio)) yield* rmap_walk_anon(folio, rwc);
  else yield* rmap_walk_file(folio, rwc);
}

/* ---------------------------------------------------- page_vma_mapped_walk */

export const PVMW_MIGRATION = 1 << 1;

/** struct page_vma_mapped_walk: the control object of one PTE lookup. */
export interface PageVmaMappedWalk {
  readonly folio: Folio;
  readonly vma: VmArea;
  readonly address: number;
  readonly flags: number;
  /** Set when the walk succeeds: the table whose PT lock is held. */
  table?: PteTable;
  /**
   * Set when the walk succeeds on a PMD (pvmw->pmd && !pvmw->pte): a huge PMD,
   * or with PVMW_MIGRATION a PMD migration entry; the PMD lock is held.
   */
  pmd_ptl?: Spinlock;
  /** Set when the walk succeeds: the page (of a large folio: which subpage) the entry maps. */
  page?: StructPage;
}

/**
 * page_vma_mapped_walk(): does the PTE at pvmw.address map the folio (or,
 * with PVMW_MIGRATION, hold a migration entry for it)? A huge PMD or PMD
 * migration entry, read locklessly, is looked at under the PMD lock: a huge
 * PMD that maps the folio is a hit without PVMW_MIGRATION, a PMD migration
 * entry for it one with; one split under us is looked at on the PTE level.
 * We enter with nothing; on true we return with the PT lock (pvmw.table) or
 * the PMD lock (pvmw.pmd_ptl) held.
 */
export function* page_vma_mapped_walk(pvmw: PageVmaMappedWalk): KGen<boolean> {
  const mm = pvmw.vma.vm_mm;
  const idx = pmd_index(pvmw.address);
  // pmde = pmdp_get_lockless(pvmw->pmd): what pte_offset_map_lock() reads, one step earlier.
  if (pmd_is_huge(mm.pgd[idx])) {
    const ptl = yield* pmd_lock(mm);
    const pmde = mm.pgd[idx];
    if (is_pmd_migration_entry(pmde)) {
      if (!(pvmw.flags & PVMW_MIGRATION) || !check_pmd(pmde.pfn, pvmw.folio)) {
        yield* spin_unlock(ptl); // not_found()
        return false;
      }
      pvmw.pmd_ptl = ptl;
      // check_pmd() matches a small folio too (a pfn range overlap): the caller's
      // VM_BUG_ON_FOLIO(!folio_test_pmd_mappable()) is what says that is wrong.
      pvmw.page = folio_page_of(pvmw.folio, pmde.pfn - pvmw.folio.pfn);
      return true;
    }
    if (pmd_trans_huge(pmde)) {
      if (pvmw.flags & PVMW_MIGRATION || !check_pmd(pmde.pfn, pvmw.folio)) {
        yield* spin_unlock(ptl);
        return false;
      }
      pvmw.pmd_ptl = ptl;
      pvmw.page = folio_page_of(pvmw.folio, pmde.pfn - pvmw.folio.pfn);
      return true;
    }
    // THP pmd was split under us: handle on pte level.
    yield* spin_unlock(ptl);
  }
  const table = yield* pte_offset_map_lock(mm, pvmw.address);
  if (!table) return false;
  const pte = ptep_get(table, pvmw.address);
  // check_pte(): the entry's pfn within [folio, folio + nr_pages).
  const folio = pvmw.folio;
  const hit =
    pvmw.flags & PVMW_MIGRATION ? pte.kind === 'migration' && pfn_in_folio(folio, pte.pfn) : pte.kind === 'present' && pfn_in_folio(folio, pte.pfn);
  if (hit) {
    pvmw.table = table;
    pvmw.page = folio.order ? folio.pages![(pte as PteMigration).pfn - folio.pfn]! : folio;
    return true;
  }
  yield* spin_unlock(table.ptl);
  return false;
}

function pfn_in_folio(folio: Folio, pfn: number): boolean {
  return pfn >= folio.pfn && pfn < folio.pfn + (1 << folio.order);
}

/** check_pmd(): the PMD's HPAGE_PMD_NR pages from `pfn` overlap the folio. */
function check_pmd(pfn: number, folio: Folio): boolean {
  return pfn + HPAGE_PMD_NR - 1 >= folio.pfn && pfn <= folio.pfn + (1 << folio.order) - 1;
}

export function* page_vma_mapped_walk_done(pvmw: PageVmaMappedWalk): KGen {
  if (pvmw.table) yield* spin_unlock(pvmw.table.ptl);
  else if (pvmw.pmd_ptl) yield* spin_unlock(pvmw.pmd_ptl);
  pvmw.table = undefined;
  pvmw.pmd_ptl = undefined;
}


/* ------------------------------------------------------------ try_to_unmap */

/*
 * The two ends of try_to_unmap_one() and try_to_migrate_one(), which Linux
 * writes out in each: the PTE was cleared and `entry` (a swap or migration
 * entry) takes its place, and the folio loses this mapping and its
 * reference; or the unmap failed and the old PTE goes back. Either way the
 * PT lock is dropped. We enter with the PT lock held by the walk.
 */
export function* rmap_one_replace(pvmw: PageVmaMappedWalk, entry: Pte): KGen<boolean> {
  set_pte_at(pvmw.table!, pvmw.address, entry);
  folio_remove_rmap_pte(pvmw.folio, pvmw.vma, pvmw.page);
  folio_put(pvmw.folio);
  yield* page_vma_mapped_walk_done(pvmw);
  return true;
}

export function* rmap_one_restore(pvmw: PageVmaMappedWalk, pteval: Pte): KGen<boolean> {
  set_pte_at(pvmw.table!, pvmw.address, pteval);
  yield* page_vma_mapped_walk_done(pvmw);
  return false;
}

/**
 * try_to_unmap_one(): replace one PTE of the folio by a swap entry. The PTE
 * is cleared first, then the slot gains a reference, then an exclusive page
 * is marked possibly shared, which fails if it may be pinned: then the PTE is
 * put back and the unmap fails (seed 003: "For swap this means, unmapping
 * will fail"). The swap PTE remembers exclusivity. The mm joins init_mm's
 * mmlist (at its head) so that swapoff can find the entry. A lazyfree folio
 * (MADV_FREE, !PG_swapbacked) is discarded instead, its PTE left clear, unless
 * it was re-dirtied (it is swap-backed again) or someone else holds a
 * reference (a GUP reference, 6c8e2a256915): then the PTE goes back.
 * We enter with the folio locked and the anon_vma read-locked.
 */
function* try_to_unmap_one(folio: Folio, vma: VmArea, address: number): KGen<boolean> {
  const pvmw: PageVmaMappedWalk = { folio, vma, address, flags: 0 };
  if (!(yield* page_vma_mapped_walk(pvmw))) return true;
  // Reclaim splits a THP before it unmaps it: a small folio is never a PMD's.
  BUG_ON(pvmw.pmd_ptl !== undefined, 'try_to_unmap_one', `${folio.kname} mapped by a PMD`);
  const table = pvmw.table!;
  const pteval = ptep_get(table, address);
  if (!folio_test_anon(folio)) {
    // This is a locked file-backed folio, so it cannot be removed from the
    // page cache and replaced by a new folio before the PTE is gone: a
    // later fault finds it (or its swap entry) in the page cache again.
    set_pte_at(table, address, PTE_NONE); // ptep_clear_flush
    yield 'try_to_unmap_one: ptep_clear_flush done';
    // Set the dirty flag on the folio now the PTE is gone.
    if (pteval.kind === 'present' && pteval.dirty) folio.flags |= PG_dirty; // folio_mark_dirty()
    return yield* rmap_one_replace(pvmw, PTE_NONE);
  }
  const anon_exclusive = PageAnonExclusive(folio);
  // ptep_clear_flush(): from here GUP-fast sees no page, but may have grabbed it already.
  set_pte_at(table, address, PTE_NONE);
  yield 'try_to_unmap_one: ptep_clear_flush done';
  // Set the dirty flag on the folio now the PTE is gone.
  if (pteval.kind === 'present' && pteval.dirty) folio.flags |= PG_dirty; // folio_mark_dirty()
  // MADV_FREE page check.
  if (!(folio.flags & PG_swapbacked)) {
    // Synchronize with gup_fast_pte_range(): clear PTE; barrier; read refcount
    // (GUP-fast: inc refcount; barrier; read PTE).
    const ref_count = folio._refcount;
    const map_count = folio._mapcount;
    if (folio.flags & PG_dirty) {
      // Redirtied either using the page table or a previously obtained GUP
      // reference: it cannot be discarded. Remap the page to page table.
      folio.flags |= PG_swapbacked; // folio_set_swapbacked()
      return yield* rmap_one_restore(pvmw, pteval);
    }
    if (ref_count !== 1 + map_count) {
      // Additional reference. Could be a GUP reference or any speculative
      // reference. This folio cannot be reclaimed right now either way, so
      // act just like nothing happened (we come back once it is gone).
      return yield* rmap_one_restore(pvmw, pteval);
    }
    // discard: the PTE stays clear; the next access faults in a zero page.
    return yield* rmap_one_replace(pvmw, PTE_NONE);
  }
  const entry = folio.swap;
  let ok = entry !== undefined;
  if (WARN_ON(!ok, 'try_to_unmap_one', `anon ${folio.kname} not in the swap cache`)) ok = false;
  else if ((yield* swap_duplicate(entry!)) < 0) ok = false;
  else if (anon_exclusive && folio_try_share_anon_rmap_pte(folio)) {
    // Pinned: the pin must keep seeing the page mapped here.
    yield* swap_free(entry!);
    ok = false;
  }
  if (!ok) return yield* rmap_one_restore(pvmw, pteval);
  const mm = vma.vm_mm;
  if (!mm.onMmlist) {
    const m = machine();
    yield* spin_lock(m.mmlist_lock);
    if (!mm.onMmlist) {
      m.mmlist.unshift(mm); // list_add(&mm->mmlist, &init_mm.mmlist)
      mm.onMmlist = true;
    }
    yield* spin_unlock(m.mmlist_lock);
  }
  const swp: PteSwap = { kind: 'swap', type: entry!.type, offset: entry!.offset, exclusive: anon_exclusive };
  return yield* rmap_one_replace(pvmw, swp);
}

/**
 * try_to_unmap(): unmap the folio from every PTE rmap finds; afterwards it
 * may still be mapped (a PTE could not be unmapped), which the caller checks.
 * We enter with the folio locked.
 */
export function* try_to_unmap(folio: Folio): KGen {
  yield* rmap_walk(folio, {
    rmap_one: try_to_unmap_one,
    done: (f) => f._mapcount === 0,
    anon_lock: folio_lock_anon_vma_read,
  });
}
