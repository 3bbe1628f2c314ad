/*
 * mm/memory.c for the model: page faults, COW, fork's page-table copy, zap
 * and free_pgtables. Read it beside the kernel's: the functions, their order,
 * their locks and their rechecks are the kernel's; what the model leaves out
 * (uffd, KSM) is left out whole. File pages are shmem's
 * (engine/mm/shmem.ts): do_fault() and its three cases, the file half of
 * copy_present_pte(), zap_details, unmap_mapping_range(); see the header of
 * the file-fault section for what they leave out. Anonymous THPs are
 * engine/mm/huge_memory.ts's; the PMD-level dispatch is here.
 *
 * The shared zero page (Linux 6.12): a read fault on anonymous memory maps it
 * (do_anonymous_page), unless mm_forbids_zeropage(); it is a special PTE, so
 * vm_normal_page() returns no page for it and fork, zap, reclaim, migration
 * and mprotect leave its refcount and mapcount alone; the first write (or an
 * unshare for a R/O long-term pin) replaces it by a fresh zeroed page
 * (wp_page_copy with pfn_is_zero: nothing is copied).
 *
 * The file is Linux 6.12 but for one path of 6.15, which the live 6.18
 * kernel has and the differential showed: do_wp_page() reuses a page of a
 * PTE-mapped THP that only this mm maps (__wp_can_reuse_large_anon_folio,
 * CONFIG_MM_ID: rmap_mm_id.ts).
 */
import { bit_lock, bit_trylock, bit_unlock, bit_wait } from '../locking/bitlock.ts';
import { SINGLE_DEPTH_NESTING } from '../locking/lock-class.ts';
import { write_seqcount_begin, write_seqcount_end } from '../locking/seqcount.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import { BUG_ON, WARN_ON } from '../kernel/current.ts';
import { machine } from './machine.ts';
import { folio_mm_id, folio_test_large_maybe_mapped_shared } from './rmap_mm_id.ts';
import { SWP_SYNCHRONOUS_IO, swp_entry } from './swap.ts';
import { swap_cache_get_folio, swapin_readahead } from './swap_state.ts';
import { folio_free_swap, free_swap_and_cache, get_swap_device, put_swap_device, swap_count, swap_duplicate, swap_free, swapcache_clear, swapcache_prepare } from './swapfile.ts';
import { swap_read_folio } from './page_io.ts';
import type { KGen } from '../sched/task.ts';
import { cond_resched, schedule_timeout_uninterruptible } from '../sched/cond_resched.ts';
import { mmap_assert_locked, vma_assert_write_locked } from './mmap_lock.ts';
import {
  EAGAIN,
  EBUSY,
  ENOMEM,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  PG_anon_exclusive,
  PG_swapcache,
  PTE_NONE,
  PTRS_PER_PTE,
  ZERO_PFN,
  PG_dirty,
  VM_FAULT_ERROR,
  VM_FAULT_LOCKED,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_RETRY,
  VM_FAULT_SIGBUS,
  VM_MAYSHARE,
  VM_SHARED,
  VM_WIPEONFORK,
  VM_WRITE,
  is_cow_mapping,
  mk_pte,
  pte_mkdirty,
  pte_none,
  pte_present,
  pte_same,
  pte_wrprotect,
  vma_is_accessible,
  type Folio,
  type MmStruct,
  type Pte,
  type PtePresent,
  type PteTable,
  type VmArea,
  type VmFault,
  HPAGE_PMD_NR,
  is_zero_pfn,
  page_folio,
  pmd_table,
  is_pmd_migration_entry,
  pmd_is_huge,
  pmd_trans_huge,
  type StructPage,
} from './mm_types.ts';
import { folio_alloc, folio_get, folio_put, pfn_folio } from './page_alloc.ts';
import { mm_forbids_zeropage, pmd_addr_end, pmd_index, pmd_lock, pte_alloc, pte_free, pte_offset_map_lock, ptep_get, set_pte_at } from './pgtable.ts';
import {
  PageAnonExclusive,
  anon_vma_prepare,
  folio_add_anon_rmap_pte,
  folio_add_file_rmap_ptes,
  folio_add_new_anon_rmap,
  folio_dup_file_rmap_pte,
  linear_page_index,
  folio_move_anon_rmap,
  folio_remove_rmap_pte,
  folio_test_anon,
  folio_try_dup_anon_rmap_pte,
  unlink_anon_vmas,
} from './rmap.ts';
import { i_mmap_lock_read, i_mmap_unlock_read, unlink_file_vma, vma_interval_tree_foreach, type AddressSpace } from '../fs/fs.ts';
import { shmem_fault } from './shmem.ts';
import { ZAP_FLAG_UNMAP, __unmap_hugepage_range_final, hugetlb_fault, is_vm_hugetlb_page } from './hugetlb.ts';
import {
  VM_FAULT_FALLBACK,
  __split_huge_pmd,
  copy_huge_pmd,
  do_huge_pmd_anonymous_page,
  do_huge_pmd_wp_page,
  huge_pmd_set_accessed,
  thp_vma_allowable,
  zap_huge_pmd,
} from './huge_memory.ts';
import { mmap_read_lock, mmap_read_trylock, mmap_read_unlock, mmap_write_downgrade, mmap_write_lock, mmap_write_unlock } from './mmap_lock.ts';
import { expand_stack_locked, find_vma } from './mmap.ts';
import { VM_GROWSDOWN } from './mm_types.ts';

/* ---------------------------------------------------------------- faults */

/**
 * handle_mm_fault(): resolve a fault at `address` in `vma`.
 * We enter with mmap_lock held for read (or the VMA read-locked); we return
 * with it still held. Returns 0 or VM_FAULT_* bits.
 */
export function* handle_mm_fault(vma: VmArea, address: number, flags: number): KGen<number> {
  if (is_vm_hugetlb_page(vma)) return yield* hugetlb_fault(vma.vm_mm, vma, address, flags);
  const vmf: VmFault = { vma, address, flags, orig_pte: PTE_NONE, table: undefined };
  return yield* handle_pte_fault(vmf);
}

/**
 * handle_pte_fault(), with __handle_mm_fault()'s PMD level before it: read
 * the PMD without the lock; an empty one in a THP VMA gets a THP
 * (create_huge_pmd) unless that falls back; a huge one takes a write or
 * unshare fault at PMD level (wp_huge_pmd) unless that splits it. Then read
 * the PTE without the lock, dispatch on what it is, and for a present PTE
 * recheck it under the PT lock with pte_same().
 */
function* handle_pte_fault(vmf: VmFault): KGen<number> {
  const mm = vmf.vma.vm_mm;
  const idx = pmd_index(vmf.address);
  yield 'handle_pte_fault: read pmd';
  let pmd = mm.pgd[idx];
  if (pmd === undefined && thp_vma_allowable(vmf.vma)) {
    const ret = yield* do_huge_pmd_anonymous_page(vmf);
    if (!(ret & VM_FAULT_FALLBACK)) return ret;
    pmd = mm.pgd[idx];
  } else if (is_pmd_migration_entry(pmd)) {
    // is_swap_pmd(vmf.orig_pmd): sleep until the THP's migration is done, retry.
    yield* pmd_migration_entry_wait(mm, vmf.address);
    return 0;
  } else if (pmd_trans_huge(pmd)) {
    // pmd_protnone() in an accessible VMA would be a NUMA hinting fault: the
    // model has none (mprotect changes VMA and PMD under the VMA write lock).
    if (vmf.flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE) && !pmd.write) {
      const ret = yield* do_huge_pmd_wp_page(vmf, pmd);
      if (!(ret & VM_FAULT_FALLBACK)) return ret;
      pmd = mm.pgd[idx];
    } else return yield* huge_pmd_set_accessed(vmf, pmd);
  }
  // A THP a racing fault just mapped (or a migration entry since): pte_offset_map_nolock() fails, retry.
  if (pmd_is_huge(pmd)) return 0;
  const table = pmd;
  if (!table) return yield* do_pte_missing(vmf);
  yield 'handle_pte_fault: ptep_get_lockless';
  vmf.orig_pte = ptep_get(table, vmf.address);
  if (pte_none(vmf.orig_pte)) return yield* do_pte_missing(vmf);
  if (!pte_present(vmf.orig_pte)) return yield* do_swap_page(vmf);

  const locked = yield* pte_offset_map_lock(mm, vmf.address);
  if (!locked) return 0;
  vmf.table = locked;
  const entry = ptep_get(locked, vmf.address);
  if (!pte_same(entry, vmf.orig_pte)) {
    // Somebody changed it under us: let the access retry.
    yield* spin_unlock(locked.ptl);
    return 0;
  }
  if (vmf.flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) {
    if (!(entry as PtePresent).write) return yield* do_wp_page(vmf);
    if (vmf.flags & FAULT_FLAG_WRITE) set_pte_at(locked, vmf.address, pte_mkdirty(entry as PtePresent));
  }
  yield* spin_unlock(locked.ptl);
  return 0;
}

/** do_pte_missing(): no PTE yet: an anonymous page, or the file's. */
function do_pte_missing(vmf: VmFault): KGen<number> {
  if (vmf.vma.vm_file === undefined) return do_anonymous_page(vmf);
  return do_fault(vmf);
}

/**
 * vm_normal_page(): the folio a present PTE maps, or undefined for a special
 * mapping: the zero page is pte_special(), and nobody refcounts, maps (rmap)
 * or reclaims it through its PTEs.
 */
export function vm_normal_page(_vma: VmArea, _addr: number, pte: PtePresent): Folio | undefined {
  if (is_zero_pfn(pte.pfn)) return undefined;
  return pfn_folio(pte.pfn);
}

/** The struct page a PTE maps within its folio: the folio itself, or a THP's subpage. */
export function vm_normal_struct_page(folio: Folio, pfn: number): StructPage {
  return folio.order ? folio.pages![pfn - folio.pfn]! : folio;
}

/**
 * do_anonymous_page(): first touch of an anonymous page. A read maps the
 * shared zero page, read-only (vm_page_prot of a private mapping), without an
 * anon_vma: there is no anon page yet. A write gets a fresh zeroed folio.
 * We enter with mmap_lock held for read and no PT lock; we return the same.
 */
function* do_anonymous_page(vmf: VmFault): KGen<number> {
  const vma = vmf.vma;
  const mm = vma.vm_mm;
  if (vma.vm_flags & VM_SHARED) return VM_FAULT_SIGBUS;
  if (!(yield* pte_alloc(mm, vmf.address))) return VM_FAULT_OOM;

  // Use the zero-page for reads
  if (!(vmf.flags & FAULT_FLAG_WRITE) && !mm_forbids_zeropage(mm)) {
    // pte_mkspecial(pfn_pte(my_zero_pfn(vmf->address), vma->vm_page_prot))
    const zero = mk_pte(ZERO_PFN, false, false, !vma_is_accessible(vma));
    const t = yield* pte_offset_map_lock(mm, vmf.address);
    if (!t) return 0;
    // vmf_pte_changed(): another thread faulted it in first.
    if (pte_none(ptep_get(t, vmf.address))) set_pte_at(t, vmf.address, zero);
    yield* spin_unlock(t.ptl);
    return 0;
  }

  // Allocate our own private page.
  if (yield* anon_vma_prepare(vma)) return VM_FAULT_OOM;
  const folio = folio_alloc();
  if (!folio) return VM_FAULT_OOM;
  folio.data.fill(0); // clear_user_highpage, then __folio_mark_uptodate

  let entry = mk_pte(folio.pfn, false, false);
  if (vma.vm_flags & VM_WRITE) entry = mk_pte(folio.pfn, true, true);

  const table = yield* pte_offset_map_lock(mm, vmf.address);
  if (!table) {
    folio_put(folio);
    return 0;
  }
  if (!pte_none(ptep_get(table, vmf.address))) {
    // vmf_pte_changed(): another thread faulted it in first.
    yield* spin_unlock(table.ptl);
    folio_put(folio);
    return 0;
  }
  folio_add_new_anon_rmap(folio, vma, vmf.address, true);
  set_pte_at(table, vmf.address, entry);
  yield* spin_unlock(table.ptl);
  return 0;
}

/**
 * do_swap_page() (Linux 6.12): a non-present, non-none PTE. Migration
 * entries wait for the migration to finish (the folio lock) and retry; a
 * migration entry whose folio is not locked is a BUG, as the kernel's
 * migration_entry_wait says. A swap entry is read back with the device pinned
 * against swapoff (get_swap_device): through the swap cache, or, on a
 * synchronous device (SWP_SYNCHRONOUS_IO) with a slot only this PTE refers
 * to, straight into a fresh folio that skips the swap cache. That path takes
 * SWAP_HAS_CACHE with swapcache_prepare() as a lock on the slot, so that a
 * parallel fault on the same entry backs off (and retries the access) and
 * the slot cannot be freed and reused under us (pte_same() could not tell);
 * it lets go with swapcache_clear() after the PT lock (need_clear_cache).
 * The folio is locked, its swap cache identity and the PTE rechecked
 * (pte_same) under the PT lock; the swap PTE says whether the page was
 * exclusive.
 * Simplifications: order-0 folios only; the swapcache_wq the backing-off
 * fault sleeps on is the scheduler's timeout (a wake_up only shortens it).
 * We enter with mmap_lock held for read and no PT lock; we return the same.
 */
function* do_swap_page(vmf: VmFault): KGen<number> {
  const orig = vmf.orig_pte;
  const vma = vmf.vma;
  if (orig.kind === 'migration') {
    yield* migration_entry_wait(vma.vm_mm, vmf.address);
    return 0;
  }
  if (orig.kind !== 'swap') return 0;
  const entry = swp_entry(orig.type, orig.offset);
  // Prevent swapoff from happening to us.
  const si = yield* get_swap_device(entry);
  if (!si) return 0;
  let need_clear_cache = false;
  // Leave with the slot's cache claim given back (after the PT lock) and the device unpinned.
  const out = function* (ret: number): KGen<number> {
    if (need_clear_cache) yield* swapcache_clear(si, entry);
    put_swap_device(si);
    return ret;
  };
  let folio = swap_cache_get_folio(si, entry.offset);
  // swapcache: the folio stands in the swap cache for the slot (not on the skip path).
  let swapcache = folio;
  if (!folio) {
    yield 'do_swap_page: data_race(si->flags), __swap_count';
    if (si.flags & SWP_SYNCHRONOUS_IO && swap_count(si, entry.offset) === 1) {
      // skip swapcache
      folio = folio_alloc(); // alloc_swap_folio()
      if (folio) {
        yield* bit_trylock(folio.lock); // __folio_set_locked: nobody sees it yet
        // Prevent parallel swapin from proceeding with the cache flag.
        // Otherwise, another thread may finish swapin first, free the entry,
        // and swapout reusing the same entry. It's undetectable as pte_same()
        // returns true due to entry reuse.
        if (yield* swapcache_prepare(entry)) {
          // Relax a bit to prevent rapid repeated page faults.
          yield* schedule_timeout_uninterruptible();
          yield* bit_unlock(folio.lock); // out_page
          folio_put(folio);
          return yield* out(0);
        }
        need_clear_cache = true;
        // To provide entry to swap_read_folio().
        yield* swap_read_folio(folio, entry);
      }
    } else {
      folio = yield* swapin_readahead(entry);
      swapcache = folio;
    }
    if (!folio) {
      // Back out if somebody else faulted in this pte while we released the pte lock.
      const t = yield* pte_offset_map_lock(vma.vm_mm, vmf.address);
      let ret = 0;
      if (t) {
        if (pte_same(ptep_get(t, vmf.address), orig)) ret = VM_FAULT_OOM;
        yield* spin_unlock(t.ptl);
      }
      return yield* out(ret);
    }
  }
  // The fresh folio of the skip path is locked already.
  if (swapcache) yield* bit_lock(folio.lock);
  // Make sure folio_free_swap() or swapoff did not release the swap cache from under us.
  if (swapcache && (!(folio.flags & PG_swapcache) || folio.swap?.type !== entry.type || folio.swap.offset !== entry.offset)) {
    yield* bit_unlock(folio.lock);
    folio_put(folio);
    return yield* out(0);
  }
  // Back out if somebody else already faulted in this pte.
  const table = yield* pte_offset_map_lock(vma.vm_mm, vmf.address);
  if (!table || !pte_same(ptep_get(table, vmf.address), orig)) {
    if (table) yield* spin_unlock(table.ptl); // out_nomap
    yield* bit_unlock(folio.lock);
    folio_put(folio);
    return yield* out(0);
  }
  // A fresh folio not exposed to the swap cache is certainly exclusive.
  let exclusive = orig.exclusive || !swapcache;
  // Remove the swap entry and conditionally try to free up the swap cache.
  yield* swap_free(entry);
  if (vmf.flags & FAULT_FLAG_WRITE && folio._refcount === 2) yield* folio_free_swap(folio);
  // Same logic as in do_wp_page(): a page known exclusive, or referenced only by us, is mapped writable.
  let write = false;
  let flags = vmf.flags;
  if (exclusive || folio._refcount === 1) {
    if (vma.vm_flags & VM_WRITE) {
      write = true;
      flags &= ~FAULT_FLAG_WRITE;
    }
    exclusive = true;
  }
  // A folio read in fresh from swap is not anon yet; one that stayed in the
  // swap cache since reclaim unmapped it still is.
  if (!folio_test_anon(folio)) folio_add_new_anon_rmap(folio, vma, vmf.address, exclusive);
  else folio_add_anon_rmap_pte(folio, vma, vmf.address, exclusive);
  const pte = mk_pte(folio.pfn, write, write && (vmf.flags & FAULT_FLAG_WRITE) !== 0);
  set_pte_at(table, vmf.address, pte);
  yield* bit_unlock(folio.lock);
  if (flags & FAULT_FLAG_WRITE) {
    // A write fault on a page we could not map writable: COW it now.
    const wvmf: VmFault = { vma, address: vmf.address, flags, orig_pte: pte, table };
    const ret = yield* do_wp_page(wvmf);
    return yield* out(ret);
  }
  yield* spin_unlock(table.ptl);
  return yield* out(0);
}

/**
 * migration_entry_wait(): recheck the entry under the PT lock, then sleep on
 * the folio lock without holding the PT lock.
 */
export function* migration_entry_wait(mm: MmStruct, address: number): KGen {
  const table = yield* pte_offset_map_lock(mm, address);
  if (!table) return;
  const pte = ptep_get(table, address);
  if (pte.kind !== 'migration') {
    yield* spin_unlock(table.ptl);
    return;
  }
  const folio = pfn_folio(pte.pfn);
  BUG_ON(!folio.lock.isLocked(), 'migration_entry_wait', `migration entry for unlocked ${folio.kname}`);
  folio_get(folio);
  yield* spin_unlock(table.ptl);
  yield* bit_wait(folio.lock);
  folio_put(folio);
}

/**
 * pmd_migration_entry_wait() (mm/migrate.c, beside migration_entry_wait):
 * recheck the PMD migration entry under the PMD lock, then sleep on the old
 * THP's folio lock without it (migration_entry_wait_on_locked).
 */
export function* pmd_migration_entry_wait(mm: MmStruct, address: number): KGen {
  const ptl = yield* pmd_lock(mm);
  const pmd = mm.pgd[pmd_index(address)];
  if (!is_pmd_migration_entry(pmd)) {
    yield* spin_unlock(ptl);
    return;
  }
  const folio = pfn_folio(pmd.pfn);
  BUG_ON(!folio.lock.isLocked(), 'pmd_migration_entry_wait', `PMD migration entry for unlocked ${folio.kname}`);
  folio_get(folio);
  yield* spin_unlock(ptl);
  yield* bit_wait(folio.lock);
  folio_put(folio);
}

/* ----------------------------------------------------------- file faults */
/*
 * The file-fault half of mm/memory.c (Linux 6.16): do_fault() and its three
 * cases, __do_fault() calling vm_ops->fault (shmem_fault: the model's only
 * files with base-page faults), finish_fault() and set_pte_range(). Left out:
 * fault-around (->map_pages, as with fault_around_bytes = 4096),
 * vmf_can_call_fault() (a file fault never holds only the VMA lock here:
 * lock_vma_under_rcu() takes anonymous VMAs alone, as in 6.4), page_mkwrite
 * (shmem has none), uffd, large folios. The model's MMU sets only the PTE's
 * dirty bit on a store to a page-cache page (an anonymous folio it dirties at
 * once): set_pte_range() maps a write fault's PTE dirty, and zap moves a
 * file PTE's dirty bit to its folio (zap_present_folio_ptes).
 */

/**
 * do_fault(): a fault on a PTE that maps nothing, in a VMA with a file.
 * We enter with mmap_lock held for read and no PT lock; we return the same.
 */
function* do_fault(vmf: VmFault): KGen<number> {
  const vma = vmf.vma;
  vmf.pgoff = linear_page_index(vma, vmf.address);
  if (!(vmf.flags & FAULT_FLAG_WRITE)) return yield* do_read_fault(vmf);
  if (!(vma.vm_flags & VM_SHARED)) return yield* do_cow_fault(vmf);
  return yield* do_shared_fault(vmf);
}

/**
 * __do_fault(): the page table first (before the folio lock: see the
 * kernel's comment on memcg reclaim), then vm_ops->fault. On success vmf.folio
 * holds the folio, referenced and locked.
 */
function* __do_fault(vmf: VmFault): KGen<number> {
  const vma = vmf.vma;
  if (!(yield* pte_alloc(vma.vm_mm, vmf.address))) return VM_FAULT_OOM; // vmf->prealloc_pte
  const ret = yield* shmem_fault(vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  const folio = vmf.folio!;
  if (!(ret & VM_FAULT_LOCKED)) yield* bit_lock(folio.lock);
  else BUG_ON(!folio.lock.isLocked(), '__do_fault', `${folio.kname} returned VM_FAULT_LOCKED unlocked`);
  return ret;
}

/** A read fault: map the page-cache folio (R/O unless the mapping is shared and writable). */
function* do_read_fault(vmf: VmFault): KGen<number> {
  let ret = yield* __do_fault(vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  ret |= yield* finish_fault(vmf);
  const folio = vmf.folio!;
  yield* bit_unlock(folio.lock);
  // Mapped, the fault's reference is the PTE's; else it goes.
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) folio_put(folio);
  return ret;
}

/**
 * A write fault in a private file mapping: copy the page-cache page into a
 * new anon folio and map that, exclusive and writable. The file's page is
 * not mapped (it stays in the page cache, where the next read fault finds
 * it).
 */
function* do_cow_fault(vmf: VmFault): KGen<number> {
  const vma = vmf.vma;
  // vmf_anon_prepare()
  if (yield* anon_vma_prepare(vma)) return VM_FAULT_OOM;
  const folio = folio_alloc(); // folio_prealloc()
  if (!folio) return VM_FAULT_OOM;
  vmf.cow_folio = folio;
  let ret = yield* __do_fault(vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) {
    folio_put(folio);
    return ret;
  }
  const page = vmf.folio!;
  // copy_mc_user_highpage(): under the page-cache folio's lock, but a store
  // through a shared mapping of the same page does not take it.
  yield 'do_cow_fault: copy_mc_user_highpage';
  folio.data = [...page.data];
  ret |= yield* finish_fault(vmf);
  yield* bit_unlock(page.lock);
  folio_put(page);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) folio_put(folio);
  return ret;
}

/** A write fault in a shared mapping: map the page-cache folio writable, and dirty it. */
function* do_shared_fault(vmf: VmFault): KGen<number> {
  let ret = yield* __do_fault(vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) return ret;
  const folio = vmf.folio!;
  // vm_ops->page_mkwrite: shmem has none.
  ret |= yield* finish_fault(vmf);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) {
    yield* bit_unlock(folio.lock);
    folio_put(folio);
    return ret;
  }
  yield* fault_dirty_shared_page(vmf, folio);
  return ret;
}

/** fault_dirty_shared_page(): folio_mark_dirty(), then unlock (no writeback to balance: shmem). */
function* fault_dirty_shared_page(_vmf: VmFault, folio: Folio): KGen {
  folio.flags |= PG_dirty; // folio_mark_dirty: shmem's noop_dirty_folio
  yield* bit_unlock(folio.lock);
}

/**
 * finish_fault(): map vmf.folio (or, for a private write, vmf.cow_folio) if
 * the PTE is still none, rechecked under the PT lock (vmf_pte_changed).
 * We enter with the page-cache folio locked and no PT lock; we return the same.
 */
function* finish_fault(vmf: VmFault): KGen<number> {
  const vma = vmf.vma;
  const is_cow = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && !(vma.vm_flags & VM_SHARED);
  const folio = is_cow ? vmf.cow_folio! : vmf.folio!;
  if (!(yield* pte_alloc(vma.vm_mm, vmf.address))) return VM_FAULT_OOM;
  const table = yield* pte_offset_map_lock(vma.vm_mm, vmf.address);
  if (!table) return VM_FAULT_NOPAGE;
  // Re-check under ptl
  if (!pte_none(ptep_get(table, vmf.address))) {
    yield* spin_unlock(table.ptl);
    return VM_FAULT_NOPAGE;
  }
  vmf.table = table;
  set_pte_range(vmf, folio);
  yield* spin_unlock(table.ptl);
  return 0;
}

/**
 * set_pte_range() for one page: mk_pte(page, vma->vm_page_prot), which for
 * a shared writable shmem mapping is writable (no write notify: shmem has
 * neither page_mkwrite nor writeback), made writable and dirty by a write
 * fault; a private write maps the new anon copy, exclusive.
 * We enter with the PT lock held.
 */
export function set_pte_range(vmf: VmFault, folio: Folio): void {
  const vma = vmf.vma;
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  const shared_write = (vma.vm_flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE);
  const writable = shared_write || (write && (vma.vm_flags & VM_WRITE) !== 0);
  const entry = mk_pte(folio.pfn, writable, write, !vma_is_accessible(vma));
  // copy-on-write page
  if (write && !(vma.vm_flags & VM_SHARED)) folio_add_new_anon_rmap(folio, vma, vmf.address, true);
  else folio_add_file_rmap_ptes(folio, vma);
  set_pte_at(vmf.table!, vmf.address, entry);
}

/* --------------------------------------------------------------------- COW */

/**
 * do_wp_page(): a write (or unshare) fault on a present, write-protected PTE.
 * An exclusive anon folio is reused; otherwise the refcount check under the
 * folio lock decides (wp_can_reuse_anon_folio); otherwise we copy. An unshare
 * fault (FAULT_FLAG_UNSHARE, from a R/O pin) ends with an exclusive page still
 * mapped R/O.
 * We enter with the PT lock held and vmf.orig_pte checked; we return with it
 * released.
 */
function* do_wp_page(vmf: VmFault): KGen<number> {
  const table = vmf.table!;
  const orig = vmf.orig_pte as PtePresent;
  // No page for the zero page: it is always copied.
  const folio = vm_normal_page(vmf.vma, vmf.address, orig);
  // vmf->page: the subpage, whose PG_anon_exclusive counts (a PTE-mapped THP's is per page).
  const page = folio && vm_normal_struct_page(folio, orig.pfn);

  // Shared mapping: we are guaranteed to have VM_WRITE and FAULT_FLAG_WRITE
  // set at this point (gup_must_unshare() never asks a shared one). A shared
  // mapping never maps the zero page (its faults are the file's).
  if (vmf.vma.vm_flags & (VM_SHARED | VM_MAYSHARE)) return yield* wp_page_shared(vmf, folio!);

  // Private mapping: an exclusive page is reused without further checks; an
  // unshare fault (a R/O pin) then only needs it marked exclusive.
  if (folio && page && folio_test_anon(folio) && (PageAnonExclusive(page) || (yield* wp_can_reuse_anon_folio(folio, vmf.vma)))) {
    if (!PageAnonExclusive(page)) page.flags |= PG_anon_exclusive; // SetPageAnonExclusive
    if (vmf.flags & FAULT_FLAG_UNSHARE) {
      yield* spin_unlock(table.ptl);
      return 0;
    }
    yield* wp_page_reuse(vmf);
    return 0;
  }
  // Ok, we need to copy. Oh, well..
  if (folio) folio_get(folio);
  yield* spin_unlock(table.ptl);
  return yield* wp_page_copy(vmf, folio, page);
}

/**
 * __wp_can_reuse_large_anon_folio() (Linux 6.15, 1da190f4d0a6, CONFIG_MM_ID,
 * as on the live 6.18 kernel; before it, no page of a large folio was
 * reused): a page of a PTE-mapped THP can be reused in place if every
 * reference to the folio is a mapping, and every mapping is in this mm
 * (rmap_mm_id.ts). Each mapping holds one reference, taken before the
 * mapcount when mapping and dropped after it when unmapping, so a GUP-fast
 * reference, a pin, a swap cache or an isolation makes the refcount the
 * larger, and another mm's mapping sets "maybe mapped shared".
 * The other side: GUP-fast's folio_try_get() (it raises the refcount
 * without any lock, before its PTE recheck), and another mm's zap or
 * unmap dropping its last mapping (which clears the shared bit once one
 * mm holds them all). Fork cannot come between: it write-locks every VMA
 * and holds mmap_lock for write.
 * We enter with the PT lock held.
 */
function* __wp_can_reuse_large_anon_folio(folio: Folio, vma: VmArea): KGen<boolean> {
  // Let's just free up a large folio if only a single page is mapped.
  if (folio._mapcount <= 1) return false;
  // If all folio references are from mappings, and all mappings are in the
  // page tables of this MM, then this folio is exclusive to this MM.
  if (folio_test_large_maybe_mapped_shared(folio)) return false;
  BUG_ON(folio._entire_mapcount > 0, '__wp_can_reuse_large_anon_folio', `${folio.kname} is PMD-mapped too`);
  if (folio.flags & PG_swapcache) {
    // Note: freeing up the swapcache will fail if some PTEs are still swap
    // entries. (The model's THPs are split before they are swapped.)
    if (!(yield* bit_trylock(folio.lock))) return false;
    yield* folio_free_swap(folio);
    yield* bit_unlock(folio.lock);
  }
  if (folio._mapcount !== folio._refcount) return false;
  // Stabilize the mapcount vs. refcount and recheck: folio_lock_large_mapcount()
  // spins here while a mapping is added or removed (rmap_mm_id.ts: each in
  // one step), and the recheck below is one step.
  yield 'folio_lock_large_mapcount';
  WARN_ON(folio._mapcount > folio._refcount, '__wp_can_reuse_large_anon_folio', `${folio.kname} mapcount ${folio._mapcount} > refcount ${folio._refcount}`);
  if (folio_test_large_maybe_mapped_shared(folio)) return false;
  if (folio._mapcount !== folio._refcount) return false;
  BUG_ON(
    folio_mm_id(folio, 0) !== vma.vm_mm.mm_id && folio_mm_id(folio, 1) !== vma.vm_mm.mm_id,
    '__wp_can_reuse_large_anon_folio',
    `${folio.kname} is not mapped by ${vma.vm_mm.kname}`,
  );
  // Do we need the folio lock? Likely not. If there would have been
  // references from page migration/swapout, we would have detected an
  // additional folio reference and never ended up here.
  return true;
}

/**
 * wp_can_reuse_anon_folio(): are we the only user? Checked under the folio
 * lock, taken with a trylock since we hold the PT lock.
 */
function* wp_can_reuse_anon_folio(folio: Folio, vma: VmArea): KGen<boolean> {
  if (folio.order) return yield* __wp_can_reuse_large_anon_folio(folio, vma);
  // Early checks without the lock are only an optimisation.
  const swapcache = folio.flags & PG_swapcache ? 1 : 0;
  if (folio._refcount > 1 + swapcache) return false;
  if (!(yield* bit_trylock(folio.lock))) return false;
  if (folio.flags & PG_swapcache) yield* folio_free_swap(folio);
  if (folio._refcount !== 1) {
    yield* bit_unlock(folio.lock);
    return false;
  }
  // The folio is all ours: move it to our anon_vma so rmap walks stay short.
  folio_move_anon_rmap(folio, vma);
  yield* bit_unlock(folio.lock);
  return true;
}

/**
 * wp_page_shared(): a write fault on a R/O PTE of a shared file mapping
 * (after mprotect): no page_mkwrite for shmem, so reuse the page in place,
 * then lock the folio to dirty it.
 * We enter with the PT lock held; we return with it released.
 */
function* wp_page_shared(vmf: VmFault, folio: Folio): KGen<number> {
  folio_get(folio);
  yield* wp_page_reuse(vmf);
  yield* bit_lock(folio.lock);
  yield* fault_dirty_shared_page(vmf, folio);
  folio_put(folio);
  return 0;
}

/** wp_page_reuse(): make the PTE writable in place. We return with the PT lock released. */
function* wp_page_reuse(vmf: VmFault): KGen {
  const table = vmf.table!;
  const orig = vmf.orig_pte as PtePresent;
  const folio = pfn_folio(orig.pfn);
  BUG_ON(folio_test_anon(folio) && !PageAnonExclusive(vm_normal_struct_page(folio, orig.pfn)), 'wp_page_reuse', `reusing non-exclusive ${folio.kname}`);
  set_pte_at(table, vmf.address, mk_pte(orig.pfn, (vmf.vma.vm_flags & VM_WRITE) !== 0, true));
  yield* spin_unlock(table.ptl);
}

/**
 * wp_page_copy(): copy the old page into a fresh exclusive one and map that
 * instead, if the PTE is still what we saw. From the zero page (no old
 * folio: pfn_is_zero) the new page is only zeroed (folio_prealloc(.., true)).
 * We enter with a reference on old_folio and no PT lock; we drop the reference.
 */
function* wp_page_copy(vmf: VmFault, old_folio: Folio | undefined, old_page: StructPage | undefined = old_folio): KGen<number> {
  const vma = vmf.vma;
  const mm = vma.vm_mm;
  if (yield* anon_vma_prepare(vma)) {
    if (old_folio) folio_put(old_folio);
    return VM_FAULT_OOM;
  }
  const pfn_is_zero = is_zero_pfn((vmf.orig_pte as PtePresent).pfn);
  const new_folio = folio_alloc();
  if (!new_folio) {
    if (old_folio) folio_put(old_folio);
    return VM_FAULT_OOM;
  }
  if (!pfn_is_zero) {
    // __wp_page_copy_user(): the copy races with writers through other mappings.
    yield '__wp_page_copy_user: copy old page';
    new_folio.data = [...old_page!.data];
  }

  const table = yield* pte_offset_map_lock(mm, vmf.address);
  // What to put once unlocked: the unused new folio, or, once the new one is
  // mapped, the old folio's mapping reference (the kernel's new_folio = old_folio).
  let drop: Folio | undefined = new_folio;
  if (table && pte_same(ptep_get(table, vmf.address), vmf.orig_pte)) {
    // ptep_clear_flush, then the new page goes in with its own rmap.
    set_pte_at(table, vmf.address, PTE_NONE);
    folio_add_new_anon_rmap(new_folio, vma, vmf.address, true);
    // An unshare copy stays R/O: only a write fault makes the PTE writable.
    const writable = !(vmf.flags & FAULT_FLAG_UNSHARE) && (vma.vm_flags & VM_WRITE) !== 0;
    set_pte_at(table, vmf.address, mk_pte(new_folio.pfn, writable, writable));
    if (old_folio) folio_remove_rmap_pte(old_folio, vma, old_page);
    drop = old_folio;
  }
  if (table) yield* spin_unlock(table.ptl);
  if (drop) folio_put(drop);
  // And the reference do_wp_page took.
  if (old_folio) folio_put(old_folio);
  return 0;
}

/* ---------------------------------------------------------- fork: copy */

/** vma_needs_copy(): only VMAs with anon pages need their page tables copied. */
function vma_needs_copy(dst_vma: VmArea, src_vma: VmArea): boolean {
  if (dst_vma.vm_flags & VM_WIPEONFORK) return false;
  return src_vma.anon_vma !== undefined;
}

/**
 * copy_page_range(): fork's copy of one VMA's page tables. A COW mapping is
 * write-protected in the parent, with write_protect_seq odd for the length of
 * the copy so that GUP-fast backs off.
 * We enter with both mmap_locks held for write; 0 or -ENOMEM.
 */
export function* copy_page_range(dst_vma: VmArea, src_vma: VmArea): KGen<number> {
  if (!vma_needs_copy(dst_vma, src_vma)) return 0;
  const src_mm = src_vma.vm_mm;
  const is_cow = is_cow_mapping(src_vma.vm_flags);
  if (is_cow) {
    // Faults under the per-VMA lock must be kept out while we write-protect
    // the parent's PTEs: dup_mmap() took it (fb49c455323f).
    vma_assert_write_locked(src_vma, 'copy_page_range');
    yield* write_seqcount_begin(src_mm.write_protect_seq);
  }
  let ret = 0;
  for (let addr = src_vma.vm_start; addr < src_vma.vm_end; ) {
    const next = pmd_addr_end(addr, src_vma.vm_end);
    yield 'copy_pmd_range: read src pmd';
    if (pmd_is_huge(src_mm.pgd[pmd_index(addr)])) {
      BUG_ON(next - addr !== HPAGE_PMD_NR, 'copy_pmd_range', `huge PMD at ${addr} not covered by ${src_vma}`);
      const err = yield* copy_huge_pmd(dst_vma, src_vma, addr);
      if (!err) {
        addr = next;
        continue;
      }
      // -EAGAIN: split (maybe pinned), or not huge any more: copy its PTEs.
    }
    if (src_mm.pgd[pmd_index(addr)]) {
      if (yield* copy_pte_range(dst_vma, src_vma, addr, next)) {
        ret = -ENOMEM;
        break;
      }
    }
    addr = next;
  }
  if (is_cow) yield* write_seqcount_end(src_mm.write_protect_seq);
  return ret;
}

/**
 * copy_pte_range(): the destination PT lock first, then the source's nested.
 * A page that must be copied rather than shared (maybe pinned) needs a
 * preallocated folio: drop both locks, allocate, and go again.
 */
function* copy_pte_range(dst_vma: VmArea, src_vma: VmArea, start: number, end: number): KGen<number> {
  const dst_mm = dst_vma.vm_mm;
  const src_mm = src_vma.vm_mm;
  let prealloc: Folio | undefined;
  let addr = start;
  let ret = 0;
  while (addr !== end) {
    if (!(yield* pte_alloc(dst_mm, addr))) {
      ret = -ENOMEM;
      break;
    }
    const dst = yield* pte_offset_map_lock(dst_mm, addr);
    if (!dst) {
      ret = -ENOMEM;
      break;
    }
    const src = yield* pte_offset_map_lock(src_mm, addr, SINGLE_DEPTH_NESTING);
    if (!src) {
      yield* spin_unlock(dst.ptl);
      break;
    }
    ret = 0;
    for (; addr !== end; addr++) {
      let ptent = ptep_get(src, addr);
      if (pte_none(ptent)) continue;
      if (!pte_present(ptent)) {
        if ((yield* copy_nonpresent_pte(dst, src, dst_vma, src_vma, addr, ptent)) < 0) {
          ret = -ENOMEM;
          break;
        }
        continue;
      }
      // copy_present_pte() consumes *prealloc if it needs it.
      const r = yield* copy_present_pte(dst_vma, src_vma, dst, src, addr, ptent, prealloc);
      if (r === -EAGAIN) {
        ret = -EAGAIN;
        break;
      }
      if (r === 1) prealloc = undefined;
      ptent = ptep_get(src, addr);
    }
    yield* spin_unlock(src.ptl);
    yield* spin_unlock(dst.ptl);
    yield* cond_resched();
    if (ret === -ENOMEM) break;
    if (ret === -EAGAIN) {
      prealloc = folio_alloc();
      if (!prealloc) {
        ret = -ENOMEM;
        break;
      }
      ret = 0;
    }
  }
  if (prealloc) folio_put(prealloc);
  return ret;
}

/**
 * copy_present_pte(): share the page with the child (write-protecting both
 * sides of a COW mapping), unless it may be pinned: then copy it now.
 * Returns 0, 1 when it used the preallocated folio, or -EAGAIN for one.
 * We enter with both PT locks held. GUP-fast does not take them: it may look
 * at the source PTE between the pin check and the write-protect, which is
 * why it must recheck mm->write_protect_seq (the other side of this race).
 */
function* copy_present_pte(
  dst_vma: VmArea,
  src_vma: VmArea,
  dst: PteTable,
  src: PteTable,
  addr: number,
  pte: PtePresent,
  prealloc: Folio | undefined,
): KGen<number> {
  const folio = vm_normal_page(src_vma, addr, pte);
  if (folio && folio_test_anon(folio)) {
    const page = vm_normal_struct_page(folio, pte.pfn);
    folio_get(folio);
    // A pin of any page of a THP makes the whole folio maybe-pinned.
    if (folio_try_dup_anon_rmap_pte(folio, dst_vma, src_vma, page) === -EBUSY) {
      // Page may be pinned, we have to copy.
      folio_put(folio);
      return copy_present_page(dst_vma, dst, addr, page, prealloc);
    }
  } else if (folio) {
    // A page-cache page of a private file VMA that has an anon_vma (shared
    // file VMAs are not copied: vma_needs_copy). The zero page: nothing to count.
    folio_get(folio);
    folio_dup_file_rmap_pte(folio);
  }
  yield 'copy_present_pte: wrprotect src pte';
  if (is_cow_mapping(src_vma.vm_flags) && pte.write) {
    set_pte_at(src, addr, pte_wrprotect(pte));
    pte = pte_wrprotect(pte);
  }
  // The child's VMA has the parent's flags: a protnone PTE stays protnone.
  set_pte_at(dst, addr, mk_pte(pte.pfn, pte.write, pte.dirty, pte.protnone));
  return 0;
}

/** copy_present_page(): the child gets its own exclusive copy of a maybe-pinned page. */
function copy_present_page(dst_vma: VmArea, dst: PteTable, addr: number, src_page: StructPage, prealloc: Folio | undefined): number {
  if (!prealloc) return -EAGAIN;
  prealloc.data = [...src_page.data];
  folio_add_new_anon_rmap(prealloc, dst_vma, addr, true);
  // mk_pte(new, dst_vma->vm_page_prot), then maybe_mkwrite(pte_mkdirty()).
  set_pte_at(dst, addr, mk_pte(prealloc.pfn, (dst_vma.vm_flags & VM_WRITE) !== 0, true, !vma_is_accessible(dst_vma)));
  return 1;
}

/**
 * copy_nonpresent_pte(): a swap entry gains a reference for the child, the
 * child's mm goes on the mmlist right after its parent's (so swapoff's walk,
 * if it already passed the parent, retries rather than misses it), and the
 * entry is marked shared in both. A migration entry is copied; a write entry
 * becomes a read entry in both, so that the restored PTEs are COW.
 * We enter with both PT locks held. 0 or -ENOMEM (swap count overflow).
 */
function* copy_nonpresent_pte(dst: PteTable, src: PteTable, dst_vma: VmArea, src_vma: VmArea, addr: number, pte: Pte): KGen<number> {
  if (pte.kind === 'swap') {
    const entry = swp_entry(pte.type, pte.offset);
    if ((yield* swap_duplicate(entry)) < 0) return -ENOMEM;
    const dst_mm = dst_vma.vm_mm;
    if (!dst_mm.onMmlist) {
      const m = machine();
      yield* spin_lock(m.mmlist_lock);
      if (!dst_mm.onMmlist) {
        // list_add(&dst_mm->mmlist, &src_mm->mmlist)
        const at = m.mmlist.indexOf(src_vma.vm_mm);
        m.mmlist.splice(at + 1, 0, dst_mm);
        dst_mm.onMmlist = true;
      }
      yield* spin_unlock(m.mmlist_lock);
    }
    // Mark the swap entry as shared.
    let entryPte = pte;
    if (pte.exclusive) {
      entryPte = { kind: 'swap', type: pte.type, offset: pte.offset, exclusive: false };
      set_pte_at(src, addr, entryPte);
    }
    set_pte_at(dst, addr, entryPte);
    return 0;
  }
  if (pte.kind === 'migration') {
    let entry = pte;
    if (entry.mode !== 'read' && is_cow_mapping(src_vma.vm_flags)) {
      // COW mappings require pages in both parent and child to be
      // write-protected: make a readable migration entry of it.
      entry = { kind: 'migration', pfn: entry.pfn, mode: 'read' };
      set_pte_at(src, addr, entry);
    }
    set_pte_at(dst, addr, entry);
  }
  return 0;
}

/* ----------------------------------------------------------------- zap */

/** struct mmu_gather: folios freed only once the TLB has been flushed. */
export interface MmuGather {
  readonly mm: MmStruct;
  readonly fullmm: boolean;
  readonly folios: Folio[];
}

export function tlb_gather_mmu(mm: MmStruct, fullmm = false): MmuGather {
  return { mm, fullmm, folios: [] };
}

/** tlb_finish_mmu(): flush, then drop the references of the unmapped folios. */
export function tlb_finish_mmu(tlb: MmuGather): void {
  for (const f of tlb.folios) folio_put(f);
  tlb.folios.length = 0;
}

/**
 * struct zap_details: unmap_mapping_range()'s zap of file pages. Without
 * even_cows the anon pages a private mapping COWed (and their swap entries)
 * stay: hole punch keeps them, truncate does not.
 */
export interface ZapDetails {
  readonly even_cows: boolean;
}

/** should_zap_cows(): by default, zap all pages; with details, COWed ones only if asked. */
function should_zap_cows(details: ZapDetails | undefined): boolean {
  return !details || details.even_cows;
}

/** should_zap_folio(): without even_cows, only non-anon folios. */
function should_zap_folio(details: ZapDetails | undefined, folio: Folio): boolean {
  if (should_zap_cows(details)) return true;
  return !folio_test_anon(folio);
}

/**
 * zap_pte_range(): clear the PTEs of [addr, end) in one table.
 * We enter with mmap_lock held (read or write), or for unmap_mapping_range()
 * with i_mmap_rwsem held for read, and no PT lock. false if the PMD is no table (pte_offset_map_lock failed: a
 * THP fault mapped it under us): zap_pmd_range() looks again.
 */
function* zap_pte_range(tlb: MmuGather, vma: VmArea, addr: number, end: number, details?: ZapDetails): KGen<boolean> {
  const table = yield* pte_offset_map_lock(vma.vm_mm, addr);
  if (!table) return false;
  for (; addr !== end; addr++) {
    const ptent = ptep_get(table, addr);
    if (pte_none(ptent)) continue;
    if (pte_present(ptent)) {
      const folio = vm_normal_page(vma, addr, ptent);
      if (details && folio && !should_zap_folio(details, folio)) continue;
      set_pte_at(table, addr, PTE_NONE); // ptep_get_and_clear_full
      // The zero page: nothing to unmap or free.
      if (!folio) continue;
      // zap_present_folio_ptes(): a page-cache folio takes the PTE's dirty bit.
      if (!folio_test_anon(folio) && ptent.dirty) folio.flags |= PG_dirty; // folio_mark_dirty()
      folio_remove_rmap_pte(folio, vma, vm_normal_struct_page(folio, ptent.pfn));
      tlb.folios.push(folio); // __tlb_remove_page
      continue;
    }
    if (ptent.kind === 'swap') {
      if (details && !should_zap_cows(details)) continue;
      yield* free_swap_and_cache(swp_entry(ptent.type, ptent.offset));
    } else if (ptent.kind === 'migration' && details && !should_zap_folio(details, pfn_folio(ptent.pfn))) continue;
    // A migration entry: the folio's mapping was already dropped by try_to_migrate.
    set_pte_at(table, addr, PTE_NONE);
  }
  yield* spin_unlock(table.ptl);
  return true;
}

/**
 * unmap_page_range() with zap_pmd_range(): zap [start, end) of one VMA,
 * table by table; a huge PMD the range covers whole goes in one
 * (zap_huge_pmd), one it covers in part is split first (MADV_DONTNEED of
 * part of a THP).
 */
function* unmap_page_range(tlb: MmuGather, vma: VmArea, start: number, end: number, details?: ZapDetails): KGen {
  const mm = vma.vm_mm;
  for (let addr = start; addr < end; ) {
    const next = pmd_addr_end(addr, end);
    yield 'zap_pmd_range: read pmd';
    if (pmd_is_huge(mm.pgd[pmd_index(addr)])) {
      if (next - addr !== HPAGE_PMD_NR) yield* __split_huge_pmd(vma, addr);
      else if (yield* zap_huge_pmd(tlb, vma, addr)) {
        addr = next;
        continue;
      }
      // fall through: split, or not huge any more
    }
    if (mm.pgd[pmd_index(addr)] && !(yield* zap_pte_range(tlb, vma, addr, next, details))) {
      // Not a table (any more): look at this PMD again.
      if (pmd_is_huge(mm.pgd[pmd_index(addr)])) {
        yield* cond_resched();
        continue;
      }
    }
    addr = next;
  }
}

/**
 * unmap_mapping_range_tree(): zap file pages [first_index, last_index] from
 * every VMA of the tree that maps any of them.
 * We enter with i_mmap_rwsem held for read: no VMA in the tree can be freed,
 * nor its page tables (free_pgtables unlinks the VMA first).
 */
function* unmap_mapping_range_tree(mapping: AddressSpace, first_index: number, last_index: number, details: ZapDetails): KGen {
  for (const vma of vma_interval_tree_foreach(mapping, first_index, last_index)) {
    const vba = vma.vm_pgoff;
    const vea = vba + (vma.vm_end - vma.vm_start) - 1;
    const zba = Math.max(first_index, vba);
    const zea = Math.min(last_index, vea);
    // unmap_mapping_range_vma() -> zap_page_range_single_batched()
    const tlb = tlb_gather_mmu(vma.vm_mm);
    yield* unmap_page_range(tlb, vma, zba - vba + vma.vm_start, zea - vba + 1 + vma.vm_start, details);
    tlb_finish_mmu(tlb);
  }
}

/**
 * unmap_mapping_pages(): unmap file pages [start, start+nr) (nr 0: to the
 * end) from every process mapping them; even_cows also zaps the private
 * copies of them (truncate), else those stay (hole punch).
 * We take and release i_mmap_rwsem for read.
 */
export function* unmap_mapping_pages(mapping: AddressSpace, start: number, nr: number, even_cows: boolean): KGen {
  const details: ZapDetails = { even_cows };
  const last_index = nr ? start + nr - 1 : Infinity;
  yield* i_mmap_lock_read(mapping);
  if (mapping.i_mmap.length > 0) yield* unmap_mapping_range_tree(mapping, start, last_index, details);
  yield* i_mmap_unlock_read(mapping);
}

/**
 * unmap_mapping_folio(): unmap one page-cache folio (truncate_cleanup_folio)
 * from every VMA; private COWs stay. We enter with the folio locked.
 */
export function* unmap_mapping_folio(folio: Folio): KGen {
  const mapping = folio.f_mapping!;
  BUG_ON(!folio.lock.isLocked(), 'unmap_mapping_folio', `${folio.kname} not locked`);
  yield* i_mmap_lock_read(mapping);
  if (mapping.i_mmap.length > 0) yield* unmap_mapping_range_tree(mapping, folio.index, folio.index, { even_cows: false });
  yield* i_mmap_unlock_read(mapping);
}

/**
 * unmap_vmas(): zap every VMA of `vmas` within [start, end).
 * We enter with mmap_lock held; the VMAs are detached or about to go.
 */
export function* unmap_vmas(tlb: MmuGather, vmas: readonly VmArea[], start: number, end: number): KGen {
  for (const vma of vmas) {
    const s = Math.max(start, vma.vm_start);
    const e = Math.min(end, vma.vm_end);
    if (s < e && is_vm_hugetlb_page(vma)) yield* __unmap_hugepage_range_final(tlb, vma, s, e, ZAP_FLAG_UNMAP);
    else if (s < e) yield* unmap_page_range(tlb, vma, s, e);
  }
}

/**
 * zap_page_range_single(): MADV_DONTNEED's zap of part of one VMA.
 * We enter with mmap_lock held for read; we return with it.
 */
export function* zap_page_range_single(vma: VmArea, start: number, end: number): KGen {
  mmap_assert_locked(vma.vm_mm, 'zap_page_range_single');
  const tlb = tlb_gather_mmu(vma.vm_mm);
  yield* unmap_page_range(tlb, vma, start, end);
  tlb_finish_mmu(tlb);
}

/* ------------------------------------------------------------ pgtables */

/**
 * free_pgtables(): unlink the departing VMAs from rmap, then free the page
 * tables that no remaining VMA can use: those wholly inside [floor, ceiling).
 * Unlinking first means no rmap walk can reach a table we free.
 * We enter with mmap_lock held (write, or read for detached VMAs).
 */
export function* free_pgtables(tlb: MmuGather, vmas: readonly VmArea[], floor: number, ceiling: number): KGen {
  for (const vma of vmas) yield* unlink_anon_vmas(vma);
  for (const vma of vmas) yield* unlink_file_vma(vma);
  for (const vma of vmas) yield* free_pgd_range(tlb, vma.vm_start, vma.vm_end, floor, ceiling);
}

/**
 * free_pgd_range(): free the PTE tables covering [addr, end) that lie wholly
 * within [floor, ceiling), so a table shared with a neighbouring VMA stays.
 */
export function* free_pgd_range(tlb: MmuGather, addr: number, end: number, floor: number, ceiling: number): KGen {
  const mm = tlb.mm;
  const first = pmd_index(addr);
  const last = pmd_index(end - 1);
  for (let idx = first; idx <= last; idx++) {
    const lo = idx * PTRS_PER_PTE;
    const hi = lo + PTRS_PER_PTE;
    if (lo < floor || hi > ceiling) continue;
    yield 'free_pte_range: pmd_clear';
    const pmd = mm.pgd[idx];
    BUG_ON(pmd_is_huge(pmd), 'free_pgd_range', `huge PMD left at ${lo} in ${mm.kname}`);
    const table = pmd_table(pmd);
    if (!table) continue;
    mm.pgd[idx] = undefined;
    pte_free(table);
  }
}

/* ------------------------------------------- the fault's VMA lookup */

/*
 * lock_mm_and_find_vma() and its helpers (CONFIG_LOCK_MM_AND_FIND_VMA), read
 * against v6.18, where they sit in mm/mmap_lock.c (mm/memory.c from v6.5,
 * where they came in, until then). The model's faults are all user faults,
 * so the exception-table checks for kernel-mode faults never apply, and it
 * has no fatal signals: the killable lock waits cannot fail.
 */

function* get_mmap_lock_carefully(mm: MmStruct): KGen<boolean> {
  if (yield* mmap_read_trylock(mm)) return true;
  yield* mmap_read_lock(mm); // mmap_read_lock_killable()
  return true;
}

/**
 * mmap_upgrade_trylock(): "We don't have this operation yet. It should be
 * easy enough to do: it's basically a atomic_long_try_cmpxchg_acquire()
 * from RWSEM_READER_BIAS -> RWSEM_WRITER_LOCKED, but it also needs the
 * proper lockdep magic etc."
 */
function mmap_upgrade_trylock(_mm: MmStruct): boolean {
  return false;
}

/**
 * upgrade_mmap_lock_carefully(): drop the read lock and take the write lock.
 * In between anything may happen to the VMA tree (munmap, mremap, another
 * fault growing the same stack): the caller must look the VMA up again.
 */
function* upgrade_mmap_lock_carefully(mm: MmStruct): KGen<boolean> {
  yield* mmap_read_unlock(mm);
  yield* mmap_write_lock(mm); // mmap_write_lock_killable()
  return true;
}

/**
 * lock_mm_and_find_vma(): "kind of equivalent to mmap_read_lock() followed by
 * find_extend_vma(), except it's a lot more careful about the locking (and
 * will drop the lock on failure)": the fault's fallback when the per-VMA
 * lock would not do (lock_vma_under_rcu finds no VMA at a stack's growth
 * address). A fault below a VM_GROWSDOWN VMA takes the mmap_lock for write,
 * looks the VMA up again, grows the stack (expand_stack_locked) and
 * downgrades.
 * We enter with no lock; we return with mmap_lock held for read and the VMA
 * that covers addr, or with no lock and undefined (SIGSEGV).
 */
export function* lock_mm_and_find_vma(mm: MmStruct, addr: number): KGen<VmArea | undefined> {
  if (!(yield* get_mmap_lock_carefully(mm))) return undefined;
  let vma = find_vma(mm, addr);
  if (vma && vma.vm_start <= addr) return vma;
  // Well, dang. We might still be successful, but only if we can extend a vma to do so.
  if (!vma || !(vma.vm_flags & VM_GROWSDOWN)) {
    yield* mmap_read_unlock(mm);
    return undefined;
  }
  // We can try to upgrade the mmap lock atomically, in which case we can
  // continue to use the vma we already looked up. Otherwise we'll have to
  // drop the mmap lock and re-take it, and also look up the vma again,
  // re-checking it.
  if (!mmap_upgrade_trylock(mm)) {
    if (!(yield* upgrade_mmap_lock_carefully(mm))) return undefined;
    vma = find_vma(mm, addr);
    if (!vma) return yield* lock_mm_fail(mm);
    if (vma.vm_start <= addr) return yield* lock_mm_success(mm, vma);
    if (!(vma.vm_flags & VM_GROWSDOWN)) return yield* lock_mm_fail(mm);
  }
  if (yield* expand_stack_locked(vma, addr)) return yield* lock_mm_fail(mm);
  return yield* lock_mm_success(mm, vma);
}

/** lock_mm_and_find_vma()'s success: label. */
function* lock_mm_success(mm: MmStruct, vma: VmArea): KGen<VmArea> {
  yield* mmap_write_downgrade(mm);
  return vma;
}

/** lock_mm_and_find_vma()'s fail: label. */
function* lock_mm_fail(mm: MmStruct): KGen<undefined> {
  yield* mmap_write_unlock(mm);
  return undefined;
}
