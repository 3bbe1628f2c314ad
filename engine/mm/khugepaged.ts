/*
 * mm/khugepaged.c for the model, Linux 6.12: khugepaged collapses the small
 * anonymous pages of a PMD range of a VM_HUGEPAGE VMA into a fresh THP.
 *
 * khugepaged_enter_vma() (MADV_HUGEPAGE) registers the mm (MMF_VM_HUGEPAGE,
 * mmgrab); the kernel thread (the executor spawns it for a program that
 * asks for huge pages) scans the registered mms in order: under
 * mmap_read_trylock, hpage_collapse_scan_pmd() looks at each PTE table of a
 * huge-aligned range, and collapse_huge_page() does the collapse with the
 * kernel's lock dance: mmap_read_unlock, alloc, mmap_write_lock,
 * hugepage_vma_revalidate, vma_start_write, anon_vma_lock_write,
 * pmdp_collapse_flush under the PMD lock (from here GUP-fast must see the
 * PMD changed and back off: 70cbc3cc78a9), __collapse_huge_page_isolate
 * under the PTE lock (each page locked, and refused if anything but its
 * mappings references it: a GUP pin or reference), the copy, and set_pmd_at
 * with the old PTE table deposited. An mm whose users are gone is dropped
 * (collect_mm_slot); __khugepaged_exit() drops one not being scanned, or
 * waits (mmap_write_lock) for the scan of one that is.
 *
 * Simplifications: a bounded number of full scans (KHUGEPAGED_FULL_SCANS),
 * with cond_resched() between PMD ranges, instead of a daemon that sleeps
 * khugepaged_scan_sleep_millisecs between them; tlb_remove_table_sync_one()
 * (2ba99c5e0881's IPI, which waits for GUP-fast walkers that saw the old
 * PMD) is not modelled: GUP-fast's PMD recheck (70cbc3cc78a9) is what keeps
 * it off a range being collapsed;
 * khugepaged_pages_to_scan covers everything; no swap-in
 * (__collapse_huge_page_swapin: a swap PTE refuses the range,
 * max_ptes_swap 0) and no young-bit check (every page counts as
 * referenced); no file or shmem
 * collapse (collapse_file), no MADV_COLLAPSE.
 */
import { bit_trylock, bit_unlock } from '../locking/bitlock.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import { BUG_ON } from '../kernel/current.ts';
import { cond_resched } from '../sched/cond_resched.ts';
import type { KGen } from '../sched/task.ts';
import {
  HPAGE_PMD_NR,
  HPAGE_PMD_ORDER,
  MMF_VM_HUGEPAGE,
  PG_swapcache,
  PTE_NONE,
  is_zero_pfn,
  mk_huge_pmd,
  pmd_table,
  pmd_is_huge,
  pmd_trans_huge,
  vma_is_accessible,
  VM_WRITE,
  page_folio,
  type Folio,
  type MmStruct,
  type PteTable,
  type VmArea,
} from './mm_types.ts';
import { machine } from './machine.ts';
import { mmdrop } from '../kernel/fork.ts';
import { mmap_read_lock, mmap_read_trylock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock, vma_start_write } from './mmap_lock.ts';
import { find_vma } from './mmap.ts';
import { folio_alloc_large, folio_get, folio_put, pfn_folio, pfn_to_page } from './page_alloc.ts';
import { pgtable_trans_huge_deposit, pmd_index, pmd_lock } from './pgtable.ts';
import { anon_vma_lock_write, anon_vma_unlock_write, folio_add_new_anon_rmap, folio_likely_mapped_shared, folio_remove_rmap_pte, folio_test_anon } from './rmap.ts';
import { thp_vma_allowable, thp_vma_suitable_order } from './huge_memory.ts';
import { vma_is_anonymous } from './vma_lock.ts';

/** How many times the model's khugepaged scans all registered mms before it stops. */
export const KHUGEPAGED_FULL_SCANS = 2;
/** khugepaged_max_ptes_none (HPAGE_PMD_NR - 1) and khugepaged_max_ptes_shared (HPAGE_PMD_NR / 2). */
const khugepaged_max_ptes_none = HPAGE_PMD_NR - 1;
const khugepaged_max_ptes_shared = HPAGE_PMD_NR / 2;

export const SCAN_SUCCEED = 1;
const SCAN_FAIL = 0;
const SCAN_PMD_NULL = 2;
const SCAN_EXCEED_NONE_PTE = 3;
const SCAN_EXCEED_SHARED_PTE = 5;
const SCAN_PTE_NON_PRESENT = 6;
const SCAN_PAGE_RO = 7;
const SCAN_PAGE_NULL = 9;
const SCAN_PAGE_LOCK = 11;
const SCAN_PAGE_ANON = 12;
const SCAN_ANY_PROCESS = 14;
const SCAN_VMA_NULL = 15;
const SCAN_VMA_CHECK = 16;
const SCAN_ADDRESS_RANGE = 17;
const SCAN_PAGE_COUNT = 19;
const SCAN_ALLOC_HUGE_PAGE_FAIL = 21;

/* ---------------------------------------------------------- mm slots */

/**
 * khugepaged_enter_vma(): a VMA that may get THPs registers its mm with
 * khugepaged (__khugepaged_enter: MMF_VM_HUGEPAGE, mmgrab, on the scan list).
 */
export function khugepaged_enter_vma(vma: VmArea, vm_flags: number): void {
  const mm = vma.vm_mm;
  if (mm.flags & MMF_VM_HUGEPAGE) return;
  if (!thp_vma_allowable(vma, vm_flags)) return;
  // __khugepaged_enter()
  mm.flags |= MMF_VM_HUGEPAGE;
  mm.mm_count++; // mmgrab()
  machine().khugepaged_mm_slots.push(mm);
  machine().khugepaged_wait.wakeAll(); // wake_up_interruptible(&khugepaged_wait)
}

/** hpage_collapse_test_exit(): the mm's users are gone (exit_mmap is near or done). */
function hpage_collapse_test_exit(mm: MmStruct): boolean {
  return mm.mm_users === 0;
}

/**
 * __khugepaged_exit(): from __mmput(), before exit_mmap(). A registered mm
 * that khugepaged is not scanning is dropped here; one it is scanning is
 * left for collect_mm_slot(), after waiting (mmap_write_lock) for the scan
 * to finish with its page tables.
 */
export function* khugepaged_exit(mm: MmStruct): KGen {
  if (!(mm.flags & MMF_VM_HUGEPAGE)) return;
  const m = machine();
  if (m.khugepaged_scan_mm !== mm) {
    m.khugepaged_mm_slots.splice(m.khugepaged_mm_slots.indexOf(mm), 1);
    mm.flags &= ~MMF_VM_HUGEPAGE;
    mmdrop(mm);
    return;
  }
  // This is required to serialize against hpage_collapse_test_exit()
  // (which is guaranteed to run under mmap sem read mode).
  yield* mmap_write_lock(mm);
  yield* mmap_write_unlock(mm);
}

/** collect_mm_slot(): drop an mm whose users are gone. */
function collect_mm_slot(mm: MmStruct): void {
  if (!hpage_collapse_test_exit(mm)) return;
  const m = machine();
  m.khugepaged_mm_slots.splice(m.khugepaged_mm_slots.indexOf(mm), 1);
  mm.flags &= ~MMF_VM_HUGEPAGE;
  mmdrop(mm);
}

/* ------------------------------------------------------------ the scan */

/**
 * hugepage_vma_revalidate(): after the mmap_lock was dropped, the VMA at
 * address may be gone, changed or another one.
 */
function hugepage_vma_revalidate(mm: MmStruct, address: number): VmArea | number {
  if (hpage_collapse_test_exit(mm)) return SCAN_ANY_PROCESS;
  const vma = find_vma(mm, address);
  if (!vma) return SCAN_VMA_NULL;
  if (!thp_vma_suitable_order(vma, address)) return SCAN_ADDRESS_RANGE;
  if (!thp_vma_allowable(vma)) return SCAN_VMA_CHECK;
  // Anon VMA expected, the address may be unmapped then remapped to file
  // after khugepaged reaquired the mmap_lock.
  if (!vma.anon_vma || !vma_is_anonymous(vma)) return SCAN_PAGE_ANON;
  return vma;
}

/** find_pmd_or_thp_or_none() for a collapse: a PTE table is what we collapse. */
function find_pmd_table(mm: MmStruct, address: number): PteTable | number {
  const pmd = mm.pgd[pmd_index(address)];
  // pmd_none: SCAN_PMD_NONE; !pmd_present (a PMD migration entry): SCAN_PMD_NULL; pmd_trans_huge: SCAN_PMD_MAPPED.
  if (pmd === undefined || pmd_is_huge(pmd)) return SCAN_PMD_NULL;
  return pmd_table(pmd)!;
}

/** is_refcount_suitable(): nothing but the mappings (and the swap cache) references the folio. */
function is_refcount_suitable(folio: Folio): boolean {
  let expected_refcount = folio._mapcount;
  if (folio.flags & PG_swapcache) expected_refcount += 1 << folio.order;
  return folio._refcount === expected_refcount;
}

/**
 * What hpage_collapse_scan_pmd() and __collapse_huge_page_isolate() both
 * refuse in a PTE: too many none or zero PTEs, a swap or migration entry, a
 * page that is not a normal anon one, of a large folio, or shared too often.
 */
function* check_ptes(vma: VmArea, address: number, table: PteTable, isolate: Folio[] | undefined): KGen<number> {
  let none_or_zero = 0;
  let shared = 0;
  let writable = false;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pteval = table.ptes[i]!;
    if (pteval.kind === 'none' || (pteval.kind === 'present' && is_zero_pfn(pteval.pfn))) {
      if (++none_or_zero <= khugepaged_max_ptes_none) continue;
      return SCAN_EXCEED_NONE_PTE;
    }
    if (pteval.kind !== 'present') return SCAN_PTE_NON_PRESENT;
    const folio = pfn_folio(pteval.pfn);
    if (!folio_test_anon(folio)) return SCAN_PAGE_NULL; // vm_normal_page(): no anon page
    if (folio_likely_mapped_shared(folio) && ++shared > khugepaged_max_ptes_shared) return SCAN_EXCEED_SHARED_PTE;
    // Check if we have dealt with the compound page already (compound_pagelist).
    if (isolate && folio.order && isolate.includes(folio)) {
      if (pteval.write) writable = true;
      continue;
    }
    if (isolate) {
      // We can do it before isolate_lru_page because the page can't be
      // freed from under us. NOTE: PG_lock is needed to serialize against
      // split_huge_page when invoked from the VM.
      if (!(yield* bit_trylock(folio.lock))) return SCAN_PAGE_LOCK;
      // Check if the page has any GUP (or other external) pins. The page
      // table that maps the page has been already unlinked from the page
      // table tree and this process cannot get an additional pin on the page.
      if (!is_refcount_suitable(folio)) {
        yield* bit_unlock(folio.lock);
        return SCAN_PAGE_COUNT;
      }
      // folio_isolate_lru(): the isolation's reference.
      folio_get(folio);
      isolate.push(folio);
    } else {
      // hpage_collapse_scan_pmd(): a locked page, or one with extra references, is skipped for now.
      if (folio.lock.isLocked()) return SCAN_PAGE_LOCK;
      if (!is_refcount_suitable(folio)) return SCAN_PAGE_COUNT;
    }
    if (pteval.write) writable = true;
  }
  if (!writable) return SCAN_PAGE_RO;
  return SCAN_SUCCEED;
}

/** release_pte_pages(): undo the isolation of the folios isolated so far. */
function* release_pte_pages(isolated: Folio[]): KGen {
  for (const folio of isolated) {
    yield* bit_unlock(folio.lock);
    folio_put(folio); // folio_putback_lru()
  }
}

/**
 * __collapse_huge_page_copy() and __collapse_huge_page_copy_succeeded():
 * the new THP gets each page's contents (zero for a none or zero PTE), then
 * each old PTE is cleared under the PTE lock, its folio loses that mapping,
 * is unlocked, put back and freed with its mapping's reference.
 * We enter with mmap_lock held for write and the pages isolated and locked.
 */
function* __collapse_huge_page_copy(table: PteTable, folio: Folio, vma: VmArea, address: number, isolated: readonly Folio[]): KGen {
  BUG_ON(address % HPAGE_PMD_NR !== 0, '__collapse_huge_page_copy', `unaligned ${address}`);
  const compound_pagelist = isolated.filter((f) => f.order);
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pteval = table.ptes[i]!;
    if (pteval.kind === 'present' && !is_zero_pfn(pteval.pfn)) folio.pages![i]!.data = [...pfn_to_page(pteval.pfn).data];
  }
  yield '__collapse_huge_page_copy: copied';
  // __collapse_huge_page_copy_succeeded()
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pteval = table.ptes[i]!;
    if (pteval.kind !== 'present') continue;
    if (is_zero_pfn(pteval.pfn)) {
      yield* spin_lock(table.ptl);
      table.ptes[i] = PTE_NONE; // ptep_clear()
      yield* spin_unlock(table.ptl);
      continue;
    }
    const src_page = pfn_to_page(pteval.pfn);
    const src = page_folio(src_page);
    if (!src.order) yield* release_pte_pages([src]); // release_pte_folio()
    // ptl mostly unnecessary, but preempt has to be disabled to update the per-cpu stats
    yield* spin_lock(table.ptl);
    table.ptes[i] = PTE_NONE; // ptep_clear()
    folio_remove_rmap_pte(src, vma, src_page);
    yield* spin_unlock(table.ptl);
    folio_put(src); // free_page_and_swap_cache(src_page)
  }
  // The compound_pagelist: each large folio once.
  yield* release_pte_pages(compound_pagelist);
}

/**
 * collapse_huge_page(): collapse the PTE table at address into a THP.
 * We enter with mmap_lock held for read; we return without it.
 */
function* collapse_huge_page(mm: MmStruct, address: number): KGen<number> {
  // Before allocating the hugepage, release the mmap_lock read lock. The
  // allocation can take potentially a long time if it involves sync
  // compaction, and we do not need to hold the mmap_lock during that. We
  // will recheck the vma after taking it again in write mode.
  yield* mmap_read_unlock(mm);
  // alloc_charge_folio()
  let folio: Folio | undefined = folio_alloc_large(HPAGE_PMD_ORDER);
  if (!folio) return SCAN_ALLOC_HUGE_PAGE_FAIL;
  let result = SCAN_FAIL;
  out_nolock: {
    yield* mmap_read_lock(mm);
    let vma = hugepage_vma_revalidate(mm, address);
    if (typeof vma === 'number' || typeof find_pmd_table(mm, address) === 'number') {
      result = typeof vma === 'number' ? vma : SCAN_PMD_NULL;
      yield* mmap_read_unlock(mm);
      break out_nolock;
    }
    yield* mmap_read_unlock(mm);
    // Prevent all access to pagetables with the exception of gup_fast
    // later handled by the ptep_clear_flush and the VM handled by the
    // anon_vma lock + PG_lock.
    yield* mmap_write_lock(mm);
    out_up_write: {
      vma = hugepage_vma_revalidate(mm, address);
      if (typeof vma === 'number') {
        result = vma;
        break out_up_write;
      }
      // check if the pmd is still valid
      yield* vma_start_write(vma);
      const table = find_pmd_table(mm, address);
      if (typeof table === 'number') {
        result = table;
        break out_up_write;
      }
      const anon_vma = vma.anon_vma!;
      yield* anon_vma_lock_write(anon_vma);
      // This removes any huge TLB entry from the CPU so we won't allow huge
      // and small TLB entries for the same virtual address. Parallel
      // GUP-fast is fine since GUP-fast will back off when it detects PMD is changed.
      const pmd_ptl = yield* pmd_lock(mm);
      mm.pgd[pmd_index(address)] = undefined; // pmdp_collapse_flush()
      mm.collapse_pmd = { index: pmd_index(address), table };
      yield* spin_unlock(pmd_ptl);
      // tlb_remove_table_sync_one(): not modelled (see the top of the file).
      const isolated: Folio[] = [];
      yield* spin_lock(table.ptl);
      result = yield* check_ptes(vma, address, table, isolated);
      yield* spin_unlock(table.ptl);
      if (result !== SCAN_SUCCEED) {
        yield* release_pte_pages(isolated);
        yield* spin_lock(pmd_ptl);
        BUG_ON(mm.pgd[pmd_index(address)] !== undefined, 'collapse_huge_page', `PMD at ${address} populated under us`);
        mm.pgd[pmd_index(address)] = table; // pmd_populate()
        mm.collapse_pmd = undefined;
        yield* spin_unlock(pmd_ptl);
        yield* anon_vma_unlock_write(anon_vma);
        break out_up_write;
      }
      // All pages are isolated and locked so anon_vma rmap can't run anymore.
      yield* anon_vma_unlock_write(anon_vma);
      yield* __collapse_huge_page_copy(table, folio, vma, address, isolated);
      // __folio_mark_uptodate(); _pmd = maybe_pmd_mkwrite(pmd_mkdirty(mk_huge_pmd(...)))
      const entry = mk_huge_pmd(folio.pfn, (vma.vm_flags & VM_WRITE) !== 0, true, !vma_is_accessible(vma));
      yield* spin_lock(pmd_ptl);
      BUG_ON(mm.pgd[pmd_index(address)] !== undefined, 'collapse_huge_page', `PMD at ${address} populated under us`);
      folio_add_new_anon_rmap(folio, vma, address, true);
      pgtable_trans_huge_deposit(mm, table);
      mm.pgd[pmd_index(address)] = entry; // set_pmd_at
      mm.collapse_pmd = undefined;
      yield* spin_unlock(pmd_ptl);
      folio = undefined;
      result = SCAN_SUCCEED;
    }
    yield* mmap_write_unlock(mm);
  }
  if (folio) folio_put(folio);
  return result;
}

/**
 * hpage_collapse_scan_pmd(): is the PTE table at address worth a collapse?
 * Then collapse it (which drops the mmap_lock: *mmap_locked false).
 * We enter with mmap_lock held for read.
 */
function* hpage_collapse_scan_pmd(mm: MmStruct, vma: VmArea, address: number): KGen<{ result: number; mmap_locked: boolean }> {
  const table = find_pmd_table(mm, address);
  if (typeof table === 'number') return { result: table, mmap_locked: true };
  yield* spin_lock(table.ptl); // pte_offset_map_lock()
  const result = yield* check_ptes(vma, address, table, undefined);
  yield* spin_unlock(table.ptl);
  if (result !== SCAN_SUCCEED) return { result, mmap_locked: true };
  // collapse_huge_page will return with the mmap_lock released.
  return { result: yield* collapse_huge_page(mm, address), mmap_locked: false };
}

/**
 * khugepaged_scan_mm_slot(): one mm: every huge-aligned range of its THP
 * VMAs, until a collapse drops the mmap_lock. The mm is then released if it
 * is exiting (collect_mm_slot). We enter with nothing held.
 */
function* khugepaged_scan_mm_slot(mm: MmStruct): KGen<number> {
  const m = machine();
  m.khugepaged_scan_mm = mm;
  let collapsed = 0;
  // Don't wait for semaphore (to avoid long wait times). Just move to the next mm on the list.
  breakouterloop_mmap_lock: {
    if (!(yield* mmap_read_trylock(mm))) break breakouterloop_mmap_lock;
    breakouterloop: {
      if (hpage_collapse_test_exit(mm)) break breakouterloop;
      for (const vma of [...mm.mmap]) {
        if (!thp_vma_allowable(vma)) continue;
        const hstart = Math.ceil(vma.vm_start / HPAGE_PMD_NR) * HPAGE_PMD_NR;
        const hend = Math.floor(vma.vm_end / HPAGE_PMD_NR) * HPAGE_PMD_NR;
        for (let address = hstart; address < hend; address += HPAGE_PMD_NR) {
          yield* cond_resched();
          if (hpage_collapse_test_exit(mm)) break breakouterloop;
          const { result, mmap_locked } = yield* hpage_collapse_scan_pmd(mm, vma, address);
          if (result === SCAN_SUCCEED) collapsed++;
          // We released mmap_lock so break loop.
          if (!mmap_locked) break breakouterloop_mmap_lock;
        }
      }
    }
    yield* mmap_read_unlock(mm); // exit_mmap will destroy ptes after this
  }
  m.khugepaged_scan_mm = undefined;
  // Release the current mm_slot if this mm is about to die.
  collect_mm_slot(mm);
  return collapsed;
}

/**
 * khugepaged(): the kernel thread: KHUGEPAGED_FULL_SCANS passes over the
 * registered mms (khugepaged_do_scan), each once there is one, then it
 * stops (or earlier, once every program thread is done: kthread_should_stop);
 * the mms still registered are dropped at their exit (__khugepaged_exit).
 * Returns how many ranges it collapsed.
 */
export function* khugepaged(kthread_should_stop: () => boolean): KGen<number> {
  let collapsed = 0;
  for (let scan = 0; scan < KHUGEPAGED_FULL_SCANS; scan++) {
    // khugepaged_wait_work(): wait_event_freezable(khugepaged_wait, khugepaged_has_work() || kthread_should_stop())
    while (!machine().khugepaged_mm_slots.length && !kthread_should_stop()) yield machine().khugepaged_wait;
    if (kthread_should_stop()) break;
    yield* cond_resched();
    for (const mm of [...machine().khugepaged_mm_slots]) {
      if (!machine().khugepaged_mm_slots.includes(mm)) continue;
      collapsed += yield* khugepaged_scan_mm_slot(mm);
    }
  }
  return collapsed;
}
