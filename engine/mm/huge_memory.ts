/*
 * mm/huge_memory.c for the model, Linux 6.12: anonymous transparent huge
 * pages mapped by a PMD. A THP is a folio of HPAGE_PMD_NR pages; a huge PMD
 * (PmdHuge in mm->pgd) maps all of it under the PMD lock (pmd_lock(): the
 * model's is mm->page_table_lock, see mm_types.ts). Each huge PMD has a PTE
 * table deposited for it (pgtable_trans_huge_deposit), which a split fills
 * and installs; a zap frees it.
 *
 * PG_anon_exclusive (seed 003): while PMD-mapped, the head page's bit speaks
 * for the whole PMD (folio_add_new_anon_rmap and folio_try_dup_anon_rmap_pmd
 * at RMAP_LEVEL_PMD touch only the head); __split_huge_pmd_locked() forwards
 * it to every subpage's PTE (folio_add_anon_rmap_ptes with RMAP_EXCLUSIVE),
 * from where it is per page, as for small folios.
 *
 * PMD migration entries (CONFIG_ARCH_ENABLE_THP_MIGRATION, as on x86_64):
 * kcompactd migrates a PMD-mapped THP whole. try_to_migrate_one() meets the
 * PMD and calls set_pmd_migration_entry(), which fails on an exclusive THP
 * that may be pinned; remove_migration_pmd() maps the new THP by the PMD.
 * Every path that takes the PMD lock for a huge PMD (__pmd_trans_huge_lock:
 * is_swap_pmd() || pmd_trans_huge()) meets the entry too: a fault waits for
 * the migration (pmd_migration_entry_wait), fork copies it (a writable or
 * exclusive entry made readable in parent and child), zap drops it and its
 * deposit (no rmap: the entry holds no mapping), mprotect makes a writable
 * one readable, mremap moves it, a split turns it into PTE migration entries
 * with the same write and exclusive bits. GUP-fast finds it not present and
 * falls back to GUP, whose fault waits.
 *
 * split_huge_page (split_folio, to order 0) with the refcount freeze: the
 * anon_vma locked for write, can_split_folio() refusing a folio with extra
 * references (a GUP pin or reference), unmap_folio() into migration entries
 * (a huge PMD split straight into them: __split_huge_pmd_locked with
 * freeze), folio_ref_freeze(), __split_huge_page() (the tails take the
 * head's anon_vma, index + i and flags; PG_anon_exclusive comes back per page
 * from the migration entries) and remap_page(), which maps a subpage that
 * holds only zeroes to the shared zero page (RMP_USE_SHARED_ZEROPAGE,
 * b1f202060afe: try_to_map_unused_to_zeropage in migrate.ts). Reclaim
 * (kswapd, PAGEOUT) splits a THP before it swaps it, kcompactd when no THP
 * is free to move it to (migrate_pages_batch's -ENOMEM); PAGEOUT and COLD
 * split one they cover in part.
 *
 * The huge zero folio (use_zero_page=1, Linux's default; Machine
 * thp_use_zero_page, only on a machine with the zero page: not under
 * mm_forbids_zeropage()): a read fault on an empty PMD maps it by a R/O huge
 * PMD with a deposited table (set_huge_zero_folio). It lies outside the
 * frames (HUGE_ZERO_PFN), is not anon, on no LRU and in no rmap: its PMDs
 * take no mapcount or reference, so zap frees only the deposit, fork copies
 * the PMD as it is, mprotect never makes it writable, MADV_PAGEOUT/COLD/FREE
 * and khugepaged leave it, reclaim and migration never meet it; GUP takes
 * references and pins on it as on any large folio (gup.ts). Simplified: it
 * is persistent (6.18's CONFIG_PERSISTENT_HUGE_ZERO_FOLIO; 6.12 allocates it
 * on first use, refcounts it per mm and frees it from a shrinker), so
 * mm_get_huge_zero_folio() never fails. Not 6.12: a write or unshare fault
 * on it is Linux 6.13+'s do_huge_zero_wp_pmd() (as on the live 6.18 kernel,
 * which the differential compares against): a fresh THP mapped whole, the
 * 6.12 split into small zero-page PTEs (__split_huge_zero_page_pmd) only
 * when no THP can be allocated.
 *
 * The sysfs knobs: enabled=madvise (only VM_HUGEPAGE VMAs get a THP at
 * fault time; Machine.thp_enabled 'always' gives every anonymous private
 * VMA one), defrag: the allocation just fails (VM_FAULT_FALLBACK to PTEs)
 * when no aligned block of frames is free, use_zero_page=1 (above; a
 * program without the zero page behaves as under use_zero_page=0: a read
 * fault allocates a THP). Left out, and what the model
 * does instead: splits to an order other than 0, to a list (reclaim and
 * migration go on with the head page's folio only, the tails go back to
 * the LRU); swap-out of a THP whole (it is split first),
 * NUMA hinting (do_huge_pmd_numa_page),
 * the deferred split queue, uffd, file and shmem THPs. khugepaged's
 * collapse is in khugepaged.ts.
 */
import { bit_lock, bit_trylock, bit_unlock } from '../locking/bitlock.ts';
import { lockAcquired } from '../locking/held.ts';
import { SINGLE_DEPTH_NESTING } from '../locking/lock-class.ts';
import { spin_lock, spin_lock_nested, spin_unlock } from '../locking/spinlock.ts';
import { BUG_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import {
  EAGAIN,
  EBUSY,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  HUGE_ZERO_PFN,
  PG_anon,
  PG_anon_exclusive,
  PG_dirty,
  PG_locked,
  PG_swapbacked,
  PG_swapcache,
  PG_uptodate,
  Folio,
  Page,
  PteTable,
  VM_FAULT_OOM,
  VM_HUGEPAGE,
  VM_NOHUGEPAGE,
  VM_SHARED,
  VM_WRITE,
  ZERO_PFN,
  is_huge_zero_pmd,
  is_pmd_migration_entry,
  mk_huge_pmd,
  mk_pte,
  pmd_is_huge,
  pmd_same,
  pmd_trans_huge,
  vma_is_accessible,
  type MmStruct,
  type PmdHuge,
  type PmdMigration,
  type StructPage,
  type VmArea,
  type VmFault,
} from './mm_types.ts';
import { folio_alloc_large, folio_get, folio_put, folio_ref_freeze, folio_ref_unfreeze, pfn_folio } from './page_alloc.ts';
import { mm_forbids_zeropage, pgtable_trans_huge_deposit, pgtable_trans_huge_withdraw, pmd_index, pmd_lock, pte_free, set_pte_at } from './pgtable.ts';
import {
  PageAnonExclusive,
  anon_vma_lock_write,
  anon_vma_prepare,
  anon_vma_unlock_write,
  folio_add_anon_rmap_pmd,
  folio_add_anon_rmap_ptes,
  folio_add_new_anon_rmap,
  folio_get_anon_vma,
  folio_move_anon_rmap,
  folio_remove_rmap_pmd,
  folio_test_anon,
  folio_try_dup_anon_rmap_pmd,
  folio_try_share_anon_rmap_pmd,
  put_anon_vma,
  type PageVmaMappedWalk,
} from './rmap.ts';
import { RMP_LOCKED, RMP_USE_SHARED_ZEROPAGE, TTU_RMAP_LOCKED, TTU_SPLIT_HUGE_PMD, remove_migration_ptes, try_to_migrate } from './migrate.ts';
import { machine } from './machine.ts';
import { is_vm_hugetlb_page } from './hugetlb.ts';
import { get_unmapped_area } from './mmap.ts';
import type { MmuGather } from './memory.ts';

export const VM_FAULT_FALLBACK = 0x800;

/** address & HPAGE_PMD_MASK */
export function haddr_of(address: number): number {
  return address - (address % HPAGE_PMD_NR);
}

/* -------------------------------------------------------------- policy */

/**
 * thp_vma_allowable_order(vma, vm_flags, TVA_IN_PF | TVA_ENFORCE_SYSFS,
 * PMD_ORDER): an anonymous private VMA not against huge pages
 * (MADV_NOHUGEPAGE) that, under enabled=madvise, asked for them
 * (MADV_HUGEPAGE); under enabled=always (Machine.thp_enabled), any such VMA.
 */
export function thp_vma_allowable(vma: VmArea, vm_flags = vma.vm_flags): boolean {
  const f = vm_flags;
  if (f & VM_NOHUGEPAGE) return false;
  if (!(f & VM_HUGEPAGE) && machine().thp_enabled !== 'always') return false;
  return vma.vm_file === undefined && !is_vm_hugetlb_page(vma) && !(f & VM_SHARED);
}

/** thp_vma_suitable_order(): the aligned huge range lies inside the VMA (no pgoff check for anon). */
export function thp_vma_suitable_order(vma: VmArea, address: number): boolean {
  const haddr = haddr_of(address);
  return haddr >= vma.vm_start && haddr + HPAGE_PMD_NR <= vma.vm_end;
}

/** hugepage_madvise(): MADV_HUGEPAGE / MADV_NOHUGEPAGE on the VMA's new flags (khugepaged_enter_vma: not modelled). */
export function hugepage_madvise(flags: number, advice: 'HUGEPAGE' | 'NOHUGEPAGE'): number {
  if (advice === 'HUGEPAGE') return (flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
  return (flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
}

/**
 * thp_get_unmapped_area_vmflags() -> __thp_get_unmapped_area(): search for
 * len plus a PMD of padding, then place the mapping inside it where it is
 * PMD-aligned relative to `off` (the pgoff, in pages: 0 for a new anonymous
 * mapping; for mremap's move, the old address's pgoff, so that the new
 * address is congruent to the old one and huge PMDs can move whole);
 * top-down, the highest such place. 0 when no whole PMD of [off, off + len)
 * is aligned, or the padded length does not fit (the caller retries
 * without the padding).
 */
export function thp_get_unmapped_area(mm: MmStruct, len: number, off = 0): number {
  const size = HPAGE_PMD_NR;
  const off_end = off + len;
  const off_align = Math.ceil(off / size) * size;
  if (off_end <= off_align || off_end - off_align < size) return 0;
  const ret = get_unmapped_area(mm, len + size);
  if (ret < 0) return 0;
  // off_sub = (off - ret) & (size - 1)
  const off_sub = (((off - ret) % size) + size) % size;
  // MMF_TOPDOWN && !off_sub
  if (!off_sub) return ret + size;
  return ret + off_sub;
}

/* ----------------------------------------------------- the huge zero folio */

/** transparent_hugepage_use_zero_page(): /sys/kernel/mm/transparent_hugepage/use_zero_page. */
function transparent_hugepage_use_zero_page(): boolean {
  return machine().thp_use_zero_page;
}

/**
 * mm_get_huge_zero_folio(): the huge zero folio, for a PMD of `mm`. In 6.12
 * get_huge_zero_page() allocates it on first use (alloc_pages(HPAGE_PMD_ORDER),
 * which may fail: the fault then falls back to PTEs), each mm that maps it
 * holds one reference (MMF_HUGE_ZERO_PAGE, dropped by mm_put_huge_zero_folio()
 * in __mmput) and a shrinker frees it when the last goes. Simplified, as
 * 6.18's CONFIG_PERSISTENT_HUGE_ZERO_FOLIO: made once, outside the frames
 * (HUGE_ZERO_PFN, as ZERO_PFN is), never freed, never failing; no per-mm
 * reference. Like the small zero page it is not anon, on no LRU, in no
 * rmap: its PMDs take no mapcount and no reference (zap_huge_pmd drops
 * none), only GUP's references and pins count on it.
 */
export function mm_get_huge_zero_folio(_mm: MmStruct): Folio {
  const m = machine();
  if (m.huge_zero_folio) return m.huge_zero_folio;
  const folio = new Folio(HUGE_ZERO_PFN, 'huge_zero_page');
  folio.order = HPAGE_PMD_ORDER;
  folio.flags = PG_uptodate;
  folio.pages = [];
  for (let i = 0; i < HPAGE_PMD_NR; i++) folio.pages.push(new Page(HUGE_ZERO_PFN + i, folio));
  m.huge_zero_folio = folio;
  return folio;
}

/**
 * set_huge_zero_folio(): a R/O huge PMD of the huge zero folio (mk_pmd with
 * the VMA's vm_page_prot: read-only for a private mapping, PAGE_NONE for an
 * inaccessible one), with its deposited table, as any huge PMD has.
 * Caller must hold page table lock.
 */
function set_huge_zero_folio(pgtable: PteTable, mm: MmStruct, vma: VmArea, haddr: number, zero_folio: Folio): void {
  const entry = mk_huge_pmd(zero_folio.pfn, false, false, !vma_is_accessible(vma));
  pgtable_trans_huge_deposit(mm, pgtable);
  mm.pgd[pmd_index(haddr)] = entry; // set_pmd_at; mm_inc_nr_ptes
}

/* --------------------------------------------------------------- faults */

/**
 * do_huge_pmd_anonymous_page(): a fault on an empty PMD of a THP VMA. A read
 * fault maps the huge zero folio (use_zero_page, and not
 * mm_forbids_zeropage()): nothing is allocated but the table to deposit. Any
 * other fault allocates a THP, zeroed and mapped by the PMD if the PMD is
 * still none under the PMD lock; VM_FAULT_FALLBACK lets the PTE path handle
 * the fault. Both recheck pmd_none under the PMD lock: a racing fault (or
 * pte_alloc) may have populated it (check_stable_address_space and
 * userfaultfd_missing are not modelled).
 * We enter with mmap_lock held for read (or the VMA read-locked, which
 * lock_vma_under_rcu only grants to a VMA that has its anon_vma already).
 */
export function* do_huge_pmd_anonymous_page(vmf: VmFault): KGen<number> {
  const vma = vmf.vma;
  if (!thp_vma_suitable_order(vma, vmf.address)) return VM_FAULT_FALLBACK;
  // vmf_anon_prepare(): a write to the zero PMD will need the anon_vma.
  if (yield* anon_vma_prepare(vma)) return VM_FAULT_OOM;
  if (!(vmf.flags & FAULT_FLAG_WRITE) && !mm_forbids_zeropage(vma.vm_mm) && transparent_hugepage_use_zero_page()) {
    const mm = vma.vm_mm;
    const haddr = haddr_of(vmf.address);
    const pgtable = new PteTable(mm, pmd_index(haddr)); // pte_alloc_one()
    const zero_folio = mm_get_huge_zero_folio(mm); // never NULL in the model: no THP_FAULT_FALLBACK
    const ptl = yield* pmd_lock(mm);
    if (mm.pgd[pmd_index(haddr)] === undefined) {
      set_huge_zero_folio(pgtable, mm, vma, haddr, zero_folio);
      yield* spin_unlock(ptl);
    } else {
      yield* spin_unlock(ptl);
      pte_free(pgtable);
    }
    return 0;
  }
  // vma_alloc_folio(gfp, HPAGE_PMD_ORDER, ...)
  const folio = folio_alloc_large(HPAGE_PMD_ORDER);
  if (!folio) return VM_FAULT_FALLBACK; // count_vm_event(THP_FAULT_FALLBACK)
  return yield* __do_huge_pmd_anonymous_page(vmf, folio);
}

/**
 * map_anon_folio_pmd() (6.13's helper; 6.12 has it inline in
 * __do_huge_pmd_anonymous_page): a new, exclusive THP mapped by the PMD,
 * writable if the VMA is (maybe_pmd_mkwrite(pmd_mkdirty(...))).
 * Caller must hold page table lock, with the PMD none or just cleared.
 */
function map_anon_folio_pmd(folio: Folio, vma: VmArea, haddr: number): void {
  const write = (vma.vm_flags & VM_WRITE) !== 0;
  const entry = mk_huge_pmd(folio.pfn, write, true, !vma_is_accessible(vma));
  folio_add_new_anon_rmap(folio, vma, haddr, true);
  vma.vm_mm.pgd[pmd_index(haddr)] = entry; // set_pmd_at
}

function* __do_huge_pmd_anonymous_page(vmf: VmFault, folio: Folio): KGen<number> {
  const vma = vmf.vma;
  const mm = vma.vm_mm;
  const haddr = haddr_of(vmf.address);
  const idx = pmd_index(haddr);
  // pte_alloc_one(): the table a split will need, deposited with the PMD.
  const pgtable = new PteTable(mm, idx);
  // folio_zero_user(): a fresh folio's pages are zero; __folio_mark_uptodate.
  const ptl = yield* pmd_lock(mm);
  if (mm.pgd[idx] !== undefined) {
    // unlock_release: somebody populated the PMD (a PTE table, a THP, the huge zero folio) first.
    yield* spin_unlock(ptl);
    pte_free(pgtable);
    folio_put(folio);
    return 0;
  }
  pgtable_trans_huge_deposit(mm, pgtable);
  map_anon_folio_pmd(folio, vma, haddr);
  yield* spin_unlock(ptl);
  return 0;
}

/**
 * huge_pmd_set_accessed(): a fault on a huge PMD that allows the access (a
 * racing fault, or a write to a writable but clean PMD): touch_pmd() under
 * the PMD lock, if the PMD is still what the fault saw.
 */
export function* huge_pmd_set_accessed(vmf: VmFault, orig: PmdHuge): KGen<number> {
  const mm = vmf.vma.vm_mm;
  const ptl = yield* pmd_lock(mm);
  const idx = pmd_index(vmf.address);
  if (mm.pgd[idx] === orig && vmf.flags & FAULT_FLAG_WRITE && !orig.dirty) mm.pgd[idx] = mk_huge_pmd(orig.pfn, orig.write, true, orig.protnone);
  yield* spin_unlock(ptl);
  return 0;
}

/**
 * do_huge_zero_wp_pmd() (Linux 6.13+, as on the live 6.18 kernel; 6.12 splits
 * the zero PMD instead, see do_huge_pmd_wp_page): a write or unshare fault on
 * a huge zero PMD replaces it by a fresh zeroed THP, exclusive and mapped
 * whole (writable if the VMA is, also for unshare), if the PMD is still the
 * one the fault saw under the PMD lock. The deposited table stays: it is the
 * new PMD's. VM_FAULT_FALLBACK if no THP can be had (the caller splits).
 * We enter with mmap_lock held for read and no PMD lock; we return the same.
 */
function* do_huge_zero_wp_pmd(vmf: VmFault, orig_pmd: PmdHuge): KGen<number> {
  const vma = vmf.vma;
  const mm = vma.vm_mm;
  const haddr = haddr_of(vmf.address);
  // vma_alloc_anon_folio_pmd(): allocated, zeroed (folio_zero_user), uptodate.
  const folio = folio_alloc_large(HPAGE_PMD_ORDER);
  if (!folio) return VM_FAULT_FALLBACK;
  const ptl = yield* pmd_lock(mm);
  if (!pmd_same(mm.pgd[pmd_index(haddr)], orig_pmd)) {
    // release: a racing fault (or zap, split, mremap) changed the PMD first.
    yield* spin_unlock(ptl);
    folio_put(folio);
    return 0;
  }
  // pmdp_huge_clear_flush(): the zero PMD holds no mapcount or reference to drop.
  mm.pgd[pmd_index(haddr)] = undefined;
  map_anon_folio_pmd(folio, vma, haddr);
  yield* spin_unlock(ptl);
  return 0;
}

/**
 * do_huge_pmd_wp_page(): a write (or unshare) fault on a read-only huge
 * PMD. The huge zero folio goes to do_huge_zero_wp_pmd() (6.13+; in 6.12
 * `if (is_huge_zero_pmd(orig_pmd)) goto fallback;`), falling back to the
 * split into zero-page PTEs, whose do_wp_page() copies the one subpage from
 * the small zero page. An exclusive THP is reused in place; one that only we reference
 * (refcount 1, checked under the folio lock) is made exclusive and reused;
 * anything else splits the PMD and falls back to the PTE path, which COWs
 * the one subpage (do_wp_page): no huge page is copied.
 * We enter with mmap_lock held for read and no PMD lock; we return the same.
 */
export function* do_huge_pmd_wp_page(vmf: VmFault, orig_pmd: PmdHuge): KGen<number> {
  const unshare = (vmf.flags & FAULT_FLAG_UNSHARE) !== 0;
  const vma = vmf.vma;
  const mm = vma.vm_mm;
  const idx = pmd_index(vmf.address);
  BUG_ON(!vma.anon_vma, 'do_huge_pmd_wp_page', `${vma} has no anon_vma`);
  if (is_huge_zero_pmd(orig_pmd)) {
    const ret = yield* do_huge_zero_wp_pmd(vmf, orig_pmd);
    if (!(ret & VM_FAULT_FALLBACK)) return ret;
    // Fallback to splitting PMD if THP cannot be allocated
    yield* __split_huge_pmd(vma, vmf.address);
    return VM_FAULT_FALLBACK;
  }
  const ptl = mm.page_table_lock;
  yield* spin_lock(ptl);
  if (mm.pgd[idx] !== orig_pmd) {
    yield* spin_unlock(ptl);
    return 0;
  }
  const folio = pfn_folio(orig_pmd.pfn);
  const page = folio.pages![0]!;
  reuse: {
    // Early check when only holding the PT lock.
    if (PageAnonExclusive(page)) break reuse;
    if (!(yield* bit_trylock(folio.lock))) {
      folio_get(folio);
      yield* spin_unlock(ptl);
      yield* bit_lock(folio.lock);
      yield* spin_lock(ptl);
      if (mm.pgd[idx] !== orig_pmd) {
        yield* spin_unlock(ptl);
        yield* bit_unlock(folio.lock);
        folio_put(folio);
        return 0;
      }
      folio_put(folio);
    }
    // Recheck after temporarily dropping the PT lock.
    if (PageAnonExclusive(page)) {
      yield* bit_unlock(folio.lock);
      break reuse;
    }
    // See do_wp_page(): we can only reuse the folio exclusively if there
    // are no additional references (the model's THPs are never in the swap cache).
    if (folio._refcount === 1) {
      folio_move_anon_rmap(folio, vma);
      page.flags |= PG_anon_exclusive; // SetPageAnonExclusive
      yield* bit_unlock(folio.lock);
      break reuse;
    }
    // unlock_fallback:
    yield* bit_unlock(folio.lock);
    yield* spin_unlock(ptl);
    // fallback:
    yield* __split_huge_pmd(vma, vmf.address);
    return VM_FAULT_FALLBACK;
  }
  // reuse:
  if (unshare) {
    yield* spin_unlock(ptl);
    return 0;
  }
  // pmdp_set_access_flags(maybe_pmd_mkwrite(pmd_mkdirty(pmd_mkyoung(orig_pmd))))
  BUG_ON(!PageAnonExclusive(page), 'do_huge_pmd_wp_page', `reusing non-exclusive ${folio.kname}`);
  mm.pgd[idx] = mk_huge_pmd(orig_pmd.pfn, (vma.vm_flags & VM_WRITE) !== 0, true, orig_pmd.protnone);
  yield* spin_unlock(ptl);
  return 0;
}

/* ----------------------------------------------------------------- fork */

/**
 * copy_huge_pmd(): fork's copy of one huge PMD. The THP is shared with the
 * child and write-protected in both, unless it may be pinned: then the
 * parent's PMD is split and the caller copies PTE by PTE, where
 * copy_present_page() gives the child its own copy of each pinned-folio
 * page (d042035eaf5f: "Split huge pmds/puds if they're pinned when fork()").
 * A huge zero PMD is copied as it is (R/O, no rmap, no reference).
 * A PMD migration entry is copied as it is, made readable first in the
 * parent if it was writable or exclusive: the THP may be shared from now
 * on (6c287605fd56: !is_readable_migration_entry()). It holds no mapping,
 * so neither side's rmap changes; remove_migration_pmd() maps the new THP
 * in both, read-only and not exclusive.
 * Returns 0, -EAGAIN (not huge any more, or split: copy the PTEs).
 * We enter with both mmap_locks held for write and write_protect_seq odd.
 */
export function* copy_huge_pmd(dst_vma: VmArea, src_vma: VmArea, addr: number): KGen<number> {
  const dst_mm = dst_vma.vm_mm;
  const src_mm = src_vma.vm_mm;
  const idx = pmd_index(addr);
  // pte_alloc_one(dst_mm): the child's deposit.
  const pgtable = new PteTable(dst_mm, idx);
  const dst_ptl = yield* pmd_lock(dst_mm);
  const src_ptl = src_mm.page_table_lock;
  yield* spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING);
  let pmd = src_mm.pgd[idx];
  if (is_pmd_migration_entry(pmd)) {
    if (pmd.mode !== 'read') {
      pmd = make_pmd_migration_entry(pmd.pfn, 'read');
      src_mm.pgd[idx] = pmd; // set_pmd_at(src_mm, addr, src_pmd, pmd)
    }
    // add_mm_counter(dst_mm, MM_ANONPAGES, HPAGE_PMD_NR); mm_inc_nr_ptes(dst_mm)
    pgtable_trans_huge_deposit(dst_mm, pgtable);
    dst_mm.pgd[idx] = pmd; // set_pmd_at(dst_mm, addr, dst_pmd, pmd)
    yield* spin_unlock(src_ptl);
    yield* spin_unlock(dst_ptl);
    return 0;
  }
  if (!pmd_trans_huge(pmd)) {
    pte_free(pgtable);
    yield* spin_unlock(src_ptl);
    yield* spin_unlock(dst_ptl);
    return -EAGAIN;
  }
  // When page table lock is held, the huge zero pmd should not be under
  // splitting since we don't split the page itself, only pmd to a page table.
  if (is_huge_zero_pmd(pmd)) {
    // mm_get_huge_zero_folio() will never allocate a new folio here, since
    // we already have a zero page to copy. It just takes a reference (not
    // modelled). out_zero_page: it is R/O already (pmdp_set_wrprotect).
    mm_get_huge_zero_folio(dst_mm);
    pgtable_trans_huge_deposit(dst_mm, pgtable);
    dst_mm.pgd[idx] = pmd; // set_pmd_at(dst_mm, addr, dst_pmd, pmd_mkold(pmd_wrprotect(pmd)))
    yield* spin_unlock(src_ptl);
    yield* spin_unlock(dst_ptl);
    return 0;
  }
  const src_folio = pfn_folio(pmd.pfn);
  folio_get(src_folio);
  if (folio_try_dup_anon_rmap_pmd(src_folio, dst_vma, src_vma)) {
    // Page maybe pinned: split and retry the fault on PTEs.
    folio_put(src_folio);
    pte_free(pgtable);
    yield* spin_unlock(src_ptl);
    yield* spin_unlock(dst_ptl);
    yield* __split_huge_pmd(src_vma, addr);
    return -EAGAIN;
  }
  pgtable_trans_huge_deposit(dst_mm, pgtable);
  // pmdp_set_wrprotect(src_mm, addr, src_pmd); pmd = pmd_mkold(pmd_wrprotect(pmd))
  const wp = pmd.write ? mk_huge_pmd(pmd.pfn, false, pmd.dirty, pmd.protnone) : pmd;
  src_mm.pgd[idx] = wp;
  dst_mm.pgd[idx] = wp;
  yield* spin_unlock(src_ptl);
  yield* spin_unlock(dst_ptl);
  return 0;
}

/* ------------------------------------------------------------------ zap */

/** zap_deposited_table(): the deposited PTE table goes with the huge PMD. We enter with the PMD lock held. */
function zap_deposited_table(mm: MmStruct): void {
  pte_free(pgtable_trans_huge_withdraw(mm));
}

/**
 * zap_huge_pmd(): clear a huge PMD that the zap covers whole; the THP's
 * reference goes to the mmu_gather. A huge zero PMD has none: its deposit
 * goes, nothing else. A PMD migration entry holds no mapping
 * and no reference: it goes with its deposit only (flush_needed = 0), and
 * remove_migration_ptes() will not find it. 0 if the PMD is not huge any
 * more (__pmd_trans_huge_lock failed: the caller looks at it again).
 * We enter with mmap_lock held (read or write) and no PMD lock.
 */
export function* zap_huge_pmd(tlb: MmuGather, vma: VmArea, addr: number): KGen<number> {
  const mm = vma.vm_mm;
  const idx = pmd_index(addr);
  // __pmd_trans_huge_lock()
  const ptl = yield* pmd_lock(mm);
  const orig = mm.pgd[idx];
  if (!pmd_is_huge(orig)) {
    yield* spin_unlock(ptl);
    return 0;
  }
  mm.pgd[idx] = undefined; // pmdp_huge_get_and_clear_full
  if (is_huge_zero_pmd(orig)) {
    // No rmap, no reference: only the deposit goes.
    zap_deposited_table(mm);
    yield* spin_unlock(ptl);
    return 1;
  }
  const folio = pfn_folio(orig.pfn);
  let flush_needed = true;
  if (pmd_trans_huge(orig)) folio_remove_rmap_pmd(folio, vma);
  else flush_needed = false; // thp_migration_supported(): pfn_swap_entry_folio(entry)
  // folio_test_anon(folio): add_mm_counter(tlb->mm, MM_ANONPAGES, -HPAGE_PMD_NR)
  zap_deposited_table(mm);
  yield* spin_unlock(ptl);
  if (flush_needed) tlb.folios.push(folio); // tlb_remove_page_size
  return 1;
}

/* ---------------------------------------------------------------- split */

/**
 * __split_huge_pmd_locked(): replace the huge PMD by the deposited PTE
 * table, filled with HPAGE_PMD_NR PTEs of the subpages, each with the PMD's
 * protection (write, dirty; the VMA's PAGE_NONE if it allows no access). The
 * folio gains a mapping and a reference per PTE and loses the PMD's; the
 * head page's PG_anon_exclusive goes to every subpage (RMAP_EXCLUSIVE).
 * With `freeze` (unmap_folio() for split_huge_page) the table is filled with
 * migration entries instead, which keep write and exclusivity, and the PMD's
 * mapping and reference are dropped: possible only if PG_anon_exclusive
 * could be cleared (the THP is not pinned), checked after the PMD was
 * invalidated, so that a racing GUP-fast either sees the pin counted or the
 * PMD changed (088b8aa537c2); else the PMD is split without freezing, and
 * try_to_migrate_one() fails on the pinned PTE.
 * A huge zero PMD becomes a table of small zero-page PTEs
 * (__split_huge_zero_page_pmd). A PMD migration entry (pmd_migration) splits into PTE migration entries
 * with its write and exclusive bits; the folio is not touched (the entry
 * holds no mapping and no reference).
 * We enter with the PMD lock held; the VMA covers the whole huge range.
 */
export function* __split_huge_pmd_locked(vma: VmArea, haddr: number, freeze = false): KGen {
  const mm = vma.vm_mm;
  const idx = pmd_index(haddr);
  BUG_ON(haddr % HPAGE_PMD_NR !== 0, '__split_huge_pmd_locked', `unaligned ${haddr}`);
  BUG_ON(vma.vm_start > haddr || vma.vm_end < haddr + HPAGE_PMD_NR, '__split_huge_pmd_locked', `${vma} does not cover [${haddr},${haddr + HPAGE_PMD_NR})`);
  const old_pmd = mm.pgd[idx];
  BUG_ON(!pmd_is_huge(old_pmd), '__split_huge_pmd_locked', `no huge PMD at ${haddr}`);
  if (is_huge_zero_pmd(old_pmd)) {
    // We are going from a zero huge page write protected to zero small page
    // also write protected so it does not seems useful to invalidate
    // secondary mmu at this time.
    __split_huge_zero_page_pmd(vma, haddr);
    return;
  }
  if (is_pmd_migration_entry(old_pmd)) {
    __split_huge_pmd_migration_locked(vma, haddr, old_pmd);
    return;
  }
  const orig = old_pmd as PmdHuge;
  // pmdp_invalidate(): from here GUP-fast sees a changed PMD and lets go.
  // It is still pmd_trans_huge() to a lockless look (x86: PROTNONE, not
  // PRESENT), so zap, fork and faults take the PMD lock and wait for us.
  mm.pgd[idx] = mk_huge_pmd(orig.pfn, orig.write, orig.dirty, true);
  // GUP-fast may have grabbed the folio before the invalidation.
  if (freeze) yield '__split_huge_pmd_locked: pmdp_invalidate done';
  const folio = pfn_folio(orig.pfn);
  const page = folio.pages![0]!;
  if (orig.dirty) folio.flags |= PG_dirty;
  const write = orig.write;
  BUG_ON(folio._refcount <= 0, '__split_huge_pmd_locked', `${folio.kname} has no reference`);
  // Without "freeze", we'll simply split the PMD, propagating the
  // PageAnonExclusive() flag for each PTE by setting it for each subpage --
  // no need to (temporarily) clear.
  const anon_exclusive = PageAnonExclusive(page);
  // With "freeze" we want to replace mapped pages by migration entries
  // right away. This is only possible if we managed to clear
  // PageAnonExclusive(). See folio_try_share_anon_rmap_pmd(): invalidate PMD first.
  if (freeze && anon_exclusive && folio_try_share_anon_rmap_pmd(folio, page)) freeze = false;
  if (!freeze) {
    folio._refcount += HPAGE_PMD_NR - 1; // folio_ref_add
    folio_add_anon_rmap_ptes(folio, page, HPAGE_PMD_NR, vma, haddr, anon_exclusive);
  }
  // Withdraw the table only after we mark the pmd entry invalid.
  const pgtable = pgtable_trans_huge_withdraw(mm);
  const protnone = !vma_is_accessible(vma);
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    BUG_ON(pgtable.ptes[i]!.kind !== 'none', '__split_huge_pmd_locked', `deposited table not empty at ${i}`);
    if (freeze) {
      const mode = write ? 'write' : anon_exclusive ? 'read-exclusive' : 'read';
      set_pte_at(pgtable, haddr + i, { kind: 'migration', pfn: orig.pfn + i, mode });
    } else set_pte_at(pgtable, haddr + i, mk_pte(orig.pfn + i, write, orig.dirty, protnone));
  }
  folio_remove_rmap_pmd(folio, vma);
  if (freeze) folio_put(folio); // put_page(page): the PMD's reference
  // smp_wmb(): make pte visible before pmd; pmd_populate()
  mm.pgd[idx] = pgtable;
}

/**
 * __split_huge_zero_page_pmd(): the huge zero PMD is cleared
 * (pmdp_huge_clear_flush: "Leave pmd empty until pte is filled"), its
 * deposited table withdrawn and filled with special R/O PTEs of the small
 * zero page (pte_mkspecial(pfn_pte(my_zero_pfn(addr), vma->vm_page_prot))),
 * then populated. No step in between: a lockless reader (GUP-fast, the MMU)
 * sees the zero PMD or the table, never the empty PMD.
 * We enter with the PMD lock held.
 */
function __split_huge_zero_page_pmd(vma: VmArea, haddr: number): void {
  const mm = vma.vm_mm;
  mm.pgd[pmd_index(haddr)] = undefined; // pmdp_huge_clear_flush()
  const pgtable = pgtable_trans_huge_withdraw(mm);
  const protnone = !vma_is_accessible(vma);
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    BUG_ON(pgtable.ptes[i]!.kind !== 'none', '__split_huge_zero_page_pmd', `deposited table not empty at ${i}`);
    set_pte_at(pgtable, haddr + i, mk_pte(ZERO_PFN, false, false, protnone));
  }
  // smp_wmb(): make pte visible before pmd; pmd_populate()
  mm.pgd[pmd_index(haddr)] = pgtable;
}

/**
 * __split_huge_pmd_locked()'s pmd_migration case: write = is_writable_migration_entry(),
 * anon_exclusive = is_readable_exclusive_migration_entry(), and each subpage
 * gets a migration entry of the same kind in the deposited table.
 * We enter with the PMD lock held.
 */
function __split_huge_pmd_migration_locked(vma: VmArea, haddr: number, old_pmd: PmdMigration): void {
  const mm = vma.vm_mm;
  const write = old_pmd.mode === 'write';
  const anon_exclusive = old_pmd.mode === 'read-exclusive';
  const pgtable = pgtable_trans_huge_withdraw(mm);
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    BUG_ON(pgtable.ptes[i]!.kind !== 'none', '__split_huge_pmd_locked', `deposited table not empty at ${i}`);
    const mode = write ? 'write' : anon_exclusive ? 'read-exclusive' : 'read';
    set_pte_at(pgtable, haddr + i, { kind: 'migration', pfn: old_pmd.pfn + i, mode });
  }
  // if (!pmd_migration) folio_remove_rmap_pmd(): no rmap to drop. smp_wmb(); pmd_populate()
  mm.pgd[pmd_index(haddr)] = pgtable;
}

/**
 * __split_huge_pmd(): split the huge PMD (or PMD migration entry) mapping
 * `address`, if it still is one under the PMD lock (and, given `folio`,
 * maps that folio: with freeze we must not put migration entries for
 * another one; a migration entry is then another folio's, which our folio
 * lock keeps out, and pmd_folio() must not be applied to it: Gavin Guo's
 * "mm/huge_memory: fix dereferencing invalid pmd migration entry", 2025,
 * backported to the stable series).
 * We enter with mmap_lock held (read or write), or with the folio locked and
 * its anon_vma locked (freeze), and no PMD lock.
 */
export function* __split_huge_pmd(vma: VmArea, address: number, freeze = false, folio?: Folio): KGen {
  const mm = vma.vm_mm;
  const ptl = yield* pmd_lock(mm);
  // split_huge_pmd_locked()
  const pmd = mm.pgd[pmd_index(address)];
  if (pmd_is_huge(pmd) && (!folio || (pmd_trans_huge(pmd) && pfn_folio(pmd.pfn) === folio))) yield* __split_huge_pmd_locked(vma, haddr_of(address), freeze);
  yield* spin_unlock(ptl);
}

/** split_huge_pmd_address() */
export function* split_huge_pmd_address(vma: VmArea, address: number, freeze = false, folio?: Folio): KGen {
  yield 'split_huge_pmd_address: mm_find_pmd';
  if (pmd_is_huge(vma.vm_mm.pgd[pmd_index(address)])) yield* __split_huge_pmd(vma, address, freeze, folio);
}

/* ------------------------------------------------------ split_huge_page */

/** The references the page cache or swap cache hold on a large folio, beside the mappings and the caller's. */
function folio_extra_pins(folio: Folio): number {
  // Additional pins from page cache (the model's THPs are anon, never in the swap cache).
  if (folio_test_anon(folio)) return folio.flags & PG_swapcache ? 1 << folio.order : 0;
  return 1 << folio.order;
}

/**
 * can_split_folio(): nobody but the mappings, the caller (`caller_pins`)
 * and the page or swap cache holds a reference: no GUP pin or reference.
 */
export function can_split_folio(folio: Folio, caller_pins: number): boolean {
  return folio._mapcount === folio._refcount - folio_extra_pins(folio) - caller_pins;
}

/**
 * unmap_folio(): anon pages need migration entries to preserve them; a
 * huge PMD is split straight into them (TTU_SPLIT_HUGE_PMD, freeze).
 * We enter with the folio locked and its anon_vma locked for write.
 */
function* unmap_folio(folio: Folio): KGen {
  BUG_ON(!folio.order, 'unmap_folio', `${folio.kname} is not large`);
  // TTU_RMAP_LOCKED | TTU_SYNC | TTU_BATCH_FLUSH, and folio_test_pmd_mappable().
  yield* try_to_migrate(folio, TTU_RMAP_LOCKED | TTU_SPLIT_HUGE_PMD);
}

/**
 * remap_page(): the migration entries of the `nr` pages from `folio` on
 * become PTEs again: of the large folio itself if the freeze failed, of each
 * new small folio after a split (`flags`: RMP_USE_SHARED_ZEROPAGE, so that
 * a zero-filled one is mapped to the shared zero page instead).
 * We enter with the folio(s) locked and the anon_vma locked for write.
 */
function* remap_page(folio: Folio, nr: number, flags: number): KGen {
  // If unmap_folio() uses try_to_migrate() on file, remove this check.
  if (!folio_test_anon(folio)) return;
  for (let i = 0; ; ) {
    yield* remove_migration_ptes(folio, folio, RMP_LOCKED | flags);
    i += 1 << folio.order;
    if (i >= nr) break;
    folio = pfn_folio(folio.pfn + (1 << folio.order)); // folio_next()
  }
}

/**
 * __folio_set_locked(): the lock bit of a folio nobody else can see yet
 * (a split's tail: PG_locked is cloned from the head), taken as a trylock.
 */
function __folio_set_locked(folio: Folio): void {
  folio.flags |= PG_locked;
  folio.lock.owner = lockAcquired(folio.lock, 0, false, true);
}

/**
 * __split_huge_page() to order 0: the frozen THP becomes HPAGE_PMD_NR small
 * folios. The head folio stays the caller's (its lock and reference); each
 * tail (__split_huge_page_tail) gets the head's anon_vma, index + i, flags
 * (locked, anon, swapbacked, dirty; not PG_anon_exclusive: the mapped pages'
 * exclusivity is in their migration entries, from where remap_page()
 * restores it) and one reference, dropped once it is remapped and unlocked
 * (free_page_and_swap_cache: an unmapped tail is freed then). One step up
 * to remap_page(): nothing yields while the folio is frozen and rebuilt.
 * Simplifications: the tails go back to the LRU, not onto the caller's list
 * (reclaim and migration go on with the head only).
 * We enter with the folio locked, frozen, unmapped and its anon_vma locked for write.
 */
function* __split_huge_page(folio: Folio): KGen {
  const nr = 1 << folio.order;
  const mem = machine().mem;
  const pages = folio.pages!;
  const keep = folio.flags & (PG_anon | PG_swapbacked | PG_dirty | PG_uptodate);
  const tails: Folio[] = [];
  for (let i = nr - 1; i >= 1; i--) {
    // __split_huge_page_tail()
    const page_tail = pages[i]!;
    const tail = new Folio(page_tail.pfn);
    tail.flags = keep;
    __folio_set_locked(tail);
    tail.mapping = folio.mapping;
    tail.index = folio.index + i;
    tail.data = page_tail.data;
    // Finally unfreeze refcount.
    tail._refcount = 1;
    mem.frames[page_tail.pfn] = tail;
    tails.unshift(tail);
  }
  // The head: an order-0 folio from here.
  folio.order = 0;
  folio.pages = undefined;
  folio._entire_mapcount = 0;
  folio._mm_ids = undefined; // unmapped: both slots are free
  folio.data = pages[0]!.data;
  folio.flags &= ~PG_anon_exclusive;
  // See comment in __split_huge_page_tail(): the head keeps the caller's reference.
  folio_ref_unfreeze(folio, 1);
  yield* remap_page(folio, nr, folio_test_anon(folio) ? RMP_USE_SHARED_ZEROPAGE : 0);
  for (const tail of tails) {
    yield* bit_unlock(tail.lock);
    // Subpages may be freed if there wasn't any mapping.
    folio_put(tail); // free_page_and_swap_cache()
  }
}

/**
 * split_huge_page_to_list_to_order(page, NULL, 0) (split_folio()): split a
 * THP into small folios. The anon_vma is locked for write, which keeps any
 * other split or collapse of it out; a folio anyone else references (a GUP
 * pin or reference: can_split_folio) is refused at once (-EAGAIN); else it
 * is unmapped into migration entries, its refcount frozen (which fails, and
 * puts the PTEs back, if a reference came meanwhile: GUP-fast), split, and
 * remapped. 0 on success: the folio is the head's small folio, still locked
 * and still the caller's reference.
 * We enter with the folio locked and a reference on it (not the mmap_lock).
 */
export function* split_huge_page_to_list_to_order(folio: Folio): KGen<number> {
  BUG_ON(!folio.lock.isLocked(), 'split_huge_page_to_list_to_order', `${folio.kname} not locked`);
  BUG_ON(!folio.order, 'split_huge_page_to_list_to_order', `${folio.kname} is not large`);
  // The model's THPs are anon; anything else is refused.
  if (!folio_test_anon(folio)) return -EBUSY;
  // The caller does not necessarily hold an mmap_lock that would prevent
  // the anon_vma disappearing so we first we take a reference to it and
  // then lock the anon_vma for write. This is similar to
  // folio_lock_anon_vma_read except the write lock is taken to serialise
  // against parallel split or collapse operations.
  const anon_vma = yield* folio_get_anon_vma(folio);
  if (!anon_vma) return -EBUSY;
  yield* anon_vma_lock_write(anon_vma);
  let ret: number;
  out_unlock: {
    const extra_pins = folio_extra_pins(folio);
    // Racy check if we can split the page, before unmap_folio() will split PMDs.
    if (!can_split_folio(folio, 1)) {
      ret = -EAGAIN;
      break out_unlock;
    }
    yield* unmap_folio(folio);
    if (folio_ref_freeze(folio, 1 + extra_pins)) {
      yield* __split_huge_page(folio);
      ret = 0;
    } else {
      yield* remap_page(folio, 1 << folio.order, 0);
      ret = -EAGAIN;
    }
  }
  yield* anon_vma_unlock_write(anon_vma);
  yield* put_anon_vma(anon_vma);
  return ret;
}

/** split_folio() */
export function* split_folio(folio: Folio): KGen<number> {
  return yield* split_huge_page_to_list_to_order(folio);
}

/**
 * split_huge_pmd_if_needed(): a VMA boundary about to move to an unaligned
 * address inside a huge range the VMA covers: split that PMD first, while
 * the VMA still covers all of it.
 */
function* split_huge_pmd_if_needed(vma: VmArea, address: number): KGen {
  if (address % HPAGE_PMD_NR === 0) return;
  const lo = haddr_of(address);
  if (lo >= vma.vm_start && lo + HPAGE_PMD_NR <= vma.vm_end && pmd_is_huge(vma.vm_mm.pgd[pmd_index(lo)])) yield* split_huge_pmd_address(vma, address);
}

/**
 * vma_adjust_trans_huge(): vma becomes [start, end) (and `next` starts at
 * `nstart`): no huge PMD may straddle a new boundary.
 * We enter with mmap_lock held for write and the rmap locks (vma_prepare).
 */
export function* vma_adjust_trans_huge(vma: VmArea, start: number, end: number, next?: VmArea, nstart?: number): KGen {
  // A VMA that never had a THP has nothing to split: no yields for it.
  if (!vma.vm_mm.pmd_huge_pte.length) return;
  yield* split_huge_pmd_if_needed(vma, start);
  yield* split_huge_pmd_if_needed(vma, end);
  if (next && nstart !== undefined) yield* split_huge_pmd_if_needed(next, nstart);
}

/* --------------------------------------------------------------- mremap */

/**
 * move_huge_pmd(): mremap moves a whole huge PMD to an empty PMD slot. The
 * deposit stays: both PMDs are on the one PMD page (pmd_move_must_withdraw()
 * is false for the same ptl). A PMD migration entry moves as it is (no
 * flush: it was not present); rmap finds it at the new address, as the
 * VMA's vm_pgoff moved with it. false if the destination is populated.
 * We enter with mmap_lock held for write (and the rmap locks if need_rmap_locks).
 */
export function* move_huge_pmd(vma: VmArea, old_addr: number, new_addr: number): KGen<boolean> {
  const mm = vma.vm_mm;
  const new_idx = pmd_index(new_addr);
  // The destination pmd shouldn't be established, free_pgtables() should have released it.
  yield 'move_huge_pmd: read new pmd';
  if (mm.pgd[new_idx] !== undefined) {
    BUG_ON(pmd_trans_huge(mm.pgd[new_idx]), 'move_huge_pmd', `huge PMD at ${new_addr}`);
    return false;
  }
  // __pmd_trans_huge_lock(old_pmd, vma); new_ptl is the same lock
  const ptl = yield* pmd_lock(mm);
  const pmd = mm.pgd[pmd_index(old_addr)];
  if (!pmd_is_huge(pmd)) {
    yield* spin_unlock(ptl);
    return false;
  }
  mm.pgd[pmd_index(old_addr)] = undefined; // pmdp_huge_get_and_clear
  BUG_ON(mm.pgd[new_idx] !== undefined, 'move_huge_pmd', `PMD at ${new_addr} populated under the PMD lock`);
  mm.pgd[new_idx] = pmd; // set_pmd_at; the flush follows (force_flush)
  yield* spin_unlock(ptl);
  return true;
}

/* ------------------------------------------------------------- mprotect */

/** can_change_pmd_writable(): a private anon PMD only for an exclusive THP (the head page's bit); never the huge zero folio. */
function can_change_pmd_writable(vma: VmArea, pmd: PmdHuge): boolean {
  if (!(vma.vm_flags & VM_WRITE)) return false;
  // Don't touch entries that are not even readable (NUMA hinting).
  if (pmd.protnone) return false;
  // See can_change_pte_writable(): vm_normal_page_pmd() finds no page for the huge zero folio.
  if (is_huge_zero_pmd(pmd)) return false;
  const folio = pfn_folio(pmd.pfn);
  return folio_test_anon(folio) && PageAnonExclusive(folio.pages![0]!);
}

/**
 * change_huge_pmd(): mprotect of a whole huge PMD: pmd_modify() to the VMA's
 * new protection (PAGE_NONE, or read-only for a private mapping), then made
 * writable again only for an exclusive THP (MM_CP_TRY_CHANGE_WRITABLE). The
 * PMD is never cleared in between (pmdp_invalidate_ad), so a racing
 * MADV_DONTNEED cannot miss it. A writable PMD migration entry is made
 * readable (exclusive, for an anon THP): "A protection check is difficult
 * so just be safe and disable write"; remove_migration_pmd() then maps the
 * new THP read-only. 0 if it was not huge any more.
 * We enter with mmap_lock held for write and the VMA write-locked.
 */
export function* change_huge_pmd(vma: VmArea, addr: number): KGen<number> {
  const mm = vma.vm_mm;
  const idx = pmd_index(addr);
  const ptl = yield* pmd_lock(mm);
  const oldpmd = mm.pgd[idx];
  if (!pmd_is_huge(oldpmd)) {
    yield* spin_unlock(ptl);
    return 0;
  }
  if (is_pmd_migration_entry(oldpmd)) {
    // is_swap_pmd(*pmd): VM_BUG_ON(!is_pmd_migration_entry(*pmd))
    if (oldpmd.mode === 'write') {
      const folio = pfn_folio(oldpmd.pfn);
      const newpmd = make_pmd_migration_entry(oldpmd.pfn, folio_test_anon(folio) ? 'read-exclusive' : 'read');
      mm.pgd[idx] = newpmd; // set_pmd_at
    }
    yield* spin_unlock(ptl);
    return 1;
  }
  // pmd_modify(oldpmd, newprot): a private mapping's vm_page_prot is read-only.
  let entry = mk_huge_pmd(oldpmd.pfn, false, oldpmd.dirty, !vma_is_accessible(vma));
  if (can_change_pmd_writable(vma, entry)) entry = mk_huge_pmd(entry.pfn, true, entry.dirty, false);
  mm.pgd[idx] = entry;
  yield* spin_unlock(ptl);
  return HPAGE_PMD_NR;
}

/* ---------------------------------------------- PMD migration entries */

/** swp_entry_to_pmd(make_{writable,readable_exclusive,readable}_migration_entry(pfn)) */
export function make_pmd_migration_entry(pfn: number, mode: PmdMigration['mode']): PmdMigration {
  return { kind: 'migration', pfn, mode };
}

/**
 * set_pmd_migration_entry(): try_to_migrate_one() met the folio mapped by a
 * huge PMD (pvmw->pmd && !pvmw->pte): invalidate the PMD, mark an exclusive
 * THP possibly shared (which fails if it may be pinned: the PMD goes back,
 * -EBUSY), then a migration entry that remembers write and exclusivity
 * takes the PMD's place; the PMD's mapping and reference go. The deposit
 * stays with the entry.
 * We enter with the PMD lock held (page_vma_mapped_walk's), the folio locked.
 */
export function* set_pmd_migration_entry(pvmw: PageVmaMappedWalk, page: StructPage): KGen<number> {
  const folio = pvmw.folio;
  const vma = pvmw.vma;
  const mm = vma.vm_mm;
  const idx = pmd_index(pvmw.address);
  const pmdval = mm.pgd[idx];
  if (!pmd_trans_huge(pmdval)) return 0; // !(pvmw->pmd && !pvmw->pte)
  // pmdp_invalidate(): from here GUP-fast sees a changed PMD and lets go.
  mm.pgd[idx] = mk_huge_pmd(pmdval.pfn, pmdval.write, pmdval.dirty, true);
  // GUP-fast may have grabbed the folio before the invalidation.
  yield 'set_pmd_migration_entry: pmdp_invalidate done';
  // See folio_try_share_anon_rmap_pmd(): invalidate PMD first.
  const anon_exclusive = folio_test_anon(folio) && PageAnonExclusive(page);
  if (anon_exclusive && folio_try_share_anon_rmap_pmd(folio, page)) {
    mm.pgd[idx] = pmdval; // set_pmd_at(mm, address, pvmw->pmd, pmdval)
    return -EBUSY;
  }
  if (pmdval.dirty) folio.flags |= PG_dirty; // folio_mark_dirty()
  const mode = pmdval.write ? 'write' : anon_exclusive ? 'read-exclusive' : 'read';
  mm.pgd[idx] = make_pmd_migration_entry(page.pfn, mode); // set_pmd_at(mm, address, pvmw->pmd, pmdswp)
  folio_remove_rmap_pmd(folio, vma);
  folio_put(folio);
  return 0;
}

/**
 * remove_migration_pmd(): the migration entry becomes a huge PMD of the new
 * THP, made writable only for a writable entry, exclusive (RMAP_EXCLUSIVE)
 * unless the entry was readable; the new THP gains the mapping and a
 * reference. No flush: it was not present before.
 * We enter with the PMD lock held (page_vma_mapped_walk's), both folios locked.
 */
export function remove_migration_pmd(pvmw: PageVmaMappedWalk, newpage: StructPage): void {
  const vma = pvmw.vma;
  const mm = vma.vm_mm;
  const haddr = haddr_of(pvmw.address);
  const idx = pmd_index(haddr);
  const entry = mm.pgd[idx];
  if (!is_pmd_migration_entry(entry)) return; // !(pvmw->pmd && !pvmw->pte)
  const folio = pfn_folio(newpage.pfn); // page_folio(new)
  folio_get(folio);
  // pmde = mk_huge_pmd(new, READ_ONCE(vma->vm_page_prot)); pmd_mkwrite() for a writable entry
  const write = entry.mode === 'write';
  const pmde = mk_huge_pmd(newpage.pfn, write, write && (folio.flags & PG_dirty) !== 0, !vma_is_accessible(vma));
  folio_add_anon_rmap_pmd(folio, newpage, vma, haddr, entry.mode !== 'read');
  BUG_ON(pmde.write && !PageAnonExclusive(newpage), 'remove_migration_pmd', `writable PMD to non-exclusive ${folio.kname}`);
  mm.pgd[idx] = pmde; // set_pmd_at(mm, haddr, pvmw->pmd, pmde)
}
