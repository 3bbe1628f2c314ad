/*
 * mm/madvise.c for the model: DONTNEED (zap under the read lock),
 * WIPEONFORK / KEEPONFORK and DONTFORK / DOFORK (flags, under the write lock,
 * splitting at the range ends), PAGEOUT (reclaim the range's unshared anon
 * and shmem folios; a THP it covers in part is split first), WILLNEED (swap-in
 * readahead of its swap entries), COLD (which only moves folios to the
 * inactive LRU: the model has no LRU, so only its THP splits show),
 * FREE (madvise_free_pte_range, Linux 6.12: swap entries are dropped, and
 * present anon folios become lazyfree, clean in folio and PTE, so that
 * reclaim may discard them until they are written again; a THP the range
 * covers in part is split first, one it covers whole is lazyfree as it is:
 * madvise_free_huge_pmd, kept here beside its one caller) and HUGEPAGE /
 * NOHUGEPAGE (VM_HUGEPAGE / VM_NOHUGEPAGE, under the write lock:
 * hugepage_madvise; a THP already mapped stays, as in the kernel).
 */
import type { KGen } from '../sched/task.ts';
import { zap_page_range_single } from './memory.ts';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from './mmap_lock.ts';
import { bit_lock, bit_trylock, bit_unlock } from '../locking/bitlock.ts';
import { spin_unlock } from '../locking/spinlock.ts';
import { cond_resched } from '../sched/cond_resched.ts';
import { HPAGE_PMD_NR, EINVAL, ENOMEM, is_huge_zero_pmd, is_zero_pfn, pmd_trans_huge, PG_dirty, PG_swapbacked, PG_swapcache, PTE_NONE, VM_DONTCOPY, VM_SHARED, VM_WIPEONFORK, mk_huge_pmd, mk_pte, pte_none, pte_present, pmd_table, type Folio, type MmStruct, type PteTable, type VmArea } from './mm_types.ts';
import { folio_get, folio_put, folio_try_get, pfn_folio } from './page_alloc.ts';
import { pmd_addr_end, pmd_index, pmd_lock, pte_index, pte_offset_map_lock, ptep_get, set_pte_at } from './pgtable.ts';
import { folio_likely_mapped_shared, folio_test_anon } from './rmap.ts';
import { swp_entry } from './swap.ts';
import { read_swap_cache_async } from './swap_state.ts';
import { folio_free_swap, free_swap_and_cache } from './swapfile.ts';
import { vma_is_anonymous } from './vma_lock.ts';
import { shrink_folio } from './vmscan.ts';
import { find_vma } from './mmap.ts';
import { vma_modify_flags, vma_modify_prev } from './vma.ts';
import { vma_start_write } from './mmap_lock.ts';
import { hugetlb_madvise, is_vm_hugetlb_page } from './hugetlb.ts';
import { hugepage_madvise, split_folio } from './huge_memory.ts';
import { khugepaged_enter_vma } from './khugepaged.ts';

export type Advice = 'DONTNEED' | 'WIPEONFORK' | 'KEEPONFORK' | 'DONTFORK' | 'DOFORK' | 'PAGEOUT' | 'COLD' | 'WILLNEED' | 'FREE' | 'HUGEPAGE' | 'NOHUGEPAGE';

/** madvise_need_mmap_write(): only the flag-changing advice takes the write lock. */
function madvise_need_mmap_write(advice: Advice): boolean {
  return advice !== 'DONTNEED' && advice !== 'FREE' && advice !== 'PAGEOUT' && advice !== 'COLD' && advice !== 'WILLNEED';
}

/**
 * can_do_file_pageout(): page cache is paged out only for files the caller
 * could open for writing (no side channel on shared read-only files). The
 * model's files are memfds and shared anonymous mappings, all created by the
 * program's one user: inode_owner_or_capable() always holds.
 */
function can_do_file_pageout(vma: VmArea): boolean {
  if (vma_is_anonymous(vma)) return true;
  return vma.vm_file !== undefined;
}

/**
 * madvise_cold_or_pageout_pte_range() + reclaim_pages(): isolate (take a
 * reference on) every folio mapped once in the range (anon, or the page cache
 * of a file we may page out), under the PT lock;
 * then reclaim them (PAGEOUT; COLD only deactivates, which the model, having
 * no LRU, does not show). Folios mapped by others are left alone. A THP the
 * range covers only in part is split first, if we are its only user
 * (split_folio under the folio lock, with no PT lock held), and its pages
 * looked at again; a huge PMD the range covers whole is isolated as it is
 * (shrink_folio splits it).
 * We enter with mmap_lock held for read.
 */
function* madvise_cold_or_pageout_pte_range(vma: VmArea, start: number, end: number, pageout: boolean): KGen {
  const mm = vma.vm_mm;
  const isolated: Folio[] = [];
  const pageout_anon_only_filter = pageout && !vma_is_anonymous(vma) && !can_do_file_pageout(vma);
  for (let addr = start; addr < end; ) {
    const next = pmd_addr_end(addr, end);
    if (pmd_trans_huge(mm.pgd[pmd_index(addr)])) {
      // ptl = pmd_trans_huge_lock(pmd, vma)
      const ptl = yield* pmd_lock(mm);
      const orig = mm.pgd[pmd_index(addr)];
      // The huge zero folio: nothing to reclaim (goto huge_unlock).
      if (!pmd_trans_huge(orig) || is_huge_zero_pmd(orig)) {
        yield* spin_unlock(ptl);
        addr = next;
        continue;
      }
      const folio = pfn_folio(orig.pfn);
      // Do not interfere with other mappings of this folio.
      if (folio_likely_mapped_shared(folio)) {
        yield* spin_unlock(ptl);
        addr = next;
        continue;
      }
      if (next - addr === HPAGE_PMD_NR) {
        // folio_isolate_lru()
        if (pageout && folio_try_get(folio)) isolated.push(folio);
        yield* spin_unlock(ptl);
        addr = next;
        continue;
      }
      folio_get(folio);
      yield* spin_unlock(ptl);
      yield* bit_lock(folio.lock);
      const err = yield* split_folio(folio);
      yield* bit_unlock(folio.lock);
      folio_put(folio);
      if (err) {
        addr = next;
        continue;
      }
      // goto regular_folio
    }
    let table = yield* pte_offset_map_lock(mm, addr);
    for (let a = addr; table && a < next; a++) {
      const pte = ptep_get(table, a);
      if (pte.kind !== 'present' || is_zero_pfn(pte.pfn)) continue;
      const folio = pfn_folio(pte.pfn);
      // pageout_anon_only_filter: page cache only for a file the caller could
      // open for writing (can_do_file_pageout). Every memfd and shared anonymous
      // mapping of the model is its own process's (inode_owner_or_capable), so
      // a shmem folio mapped once here is paged out too: shmem_writeout from
      // shrink_folio, its swap entry left in the file.
      if (pageout_anon_only_filter && !folio_test_anon(folio)) continue;
      // Creating a THP page is expensive so split it only if we are sure
      // it's worth. Split it if we are only owner.
      if (folio.order) {
        if (folio_likely_mapped_shared(folio)) break;
        if (!(yield* bit_trylock(folio.lock))) break;
        folio_get(folio);
        yield* spin_unlock(table.ptl);
        const err = yield* split_folio(folio);
        yield* bit_unlock(folio.lock);
        folio_put(folio);
        table = yield* pte_offset_map_lock(mm, a);
        // Split: look at this page again, now a small folio's.
        if (!err) a--;
        continue;
      }
      // Do not interfere with other mappings of this folio.
      if (folio._mapcount !== 1) continue;
      if (pageout && folio_try_get(folio)) isolated.push(folio);
    }
    if (table) yield* spin_unlock(table.ptl);
    addr = next;
  }
  for (const folio of isolated) yield* shrink_folio(folio);
}

/**
 * madvise_free_pte_range(): one page table's part of MADV_FREE. A swap PTE
 * is just cleared (a zero page is cheaper than a swap-in); a present anon
 * folio that is in the swap cache or dirty is cleaned under its lock (only
 * if it is mapped once: exclusive), and every folio here is marked lazyfree
 * with its PTE clean, so that a write sets both dirty bits again.
 * We enter with mmap_lock held for read and no PT lock; we return the same.
 */
function* madvise_free_pte_range(vma: VmArea, addr: number, end: number): KGen {
  let table = yield* pte_offset_map_lock(vma.vm_mm, addr);
  if (!table) return;
  for (; addr !== end; addr++) {
    const ptent = ptep_get(table, addr);
    if (pte_none(ptent)) continue;
    // If the pte has swp_entry, just clear page table to prevent swap-in
    // which is more expensive rather than (page allocation + zeroing).
    if (!pte_present(ptent)) {
      if (ptent.kind === 'swap') {
        yield* free_swap_and_cache(swp_entry(ptent.type, ptent.offset));
        set_pte_at(table, addr, PTE_NONE); // clear_not_present_full_ptes
      }
      continue;
    }
    const folio = pfn_folio(ptent.pfn);
    if (!folio_test_anon(folio)) continue; // vm_normal_folio()
    let nr = 1;
    // If we encounter a large folio, only split it if it is not fully mapped
    // within the range we are operating on. Otherwise leave it as is so that
    // it can be marked as lazyfree. If we fail to split a folio, leave it in
    // place and advance to the next pte in the range.
    if (folio.order) {
      nr = madvise_folio_pte_batch(table, addr, end, ptent.pfn, folio);
      if (nr < 1 << folio.order) {
        if (folio_likely_mapped_shared(folio)) continue;
        if (!(yield* bit_trylock(folio.lock))) continue;
        folio_get(folio);
        yield* spin_unlock(table.ptl);
        const err = yield* split_folio(folio);
        yield* bit_unlock(folio.lock);
        folio_put(folio);
        table = yield* pte_offset_map_lock(vma.vm_mm, addr);
        if (!table) return;
        // Split: look at this page again (nr = 0), now a small folio's.
        if (!err) addr--;
        continue;
      }
    }
    if (folio.flags & (PG_swapcache | PG_dirty)) {
      if (!(yield* bit_trylock(folio.lock))) continue;
      // A large folio at the start of the range that we did not split: mapped elsewhere too, skip it.
      if (folio._mapcount !== 1 << folio.order) {
        yield* bit_unlock(folio.lock);
        continue;
      }
      if (folio.flags & PG_swapcache && !(yield* folio_free_swap(folio))) {
        yield* bit_unlock(folio.lock);
        continue;
      }
      folio.flags &= ~PG_dirty; // folio_clear_dirty()
      yield* bit_unlock(folio.lock);
    }
    // clear_young_dirty_ptes() over the batch
    for (let a = addr; a < addr + nr; a++) {
      const p = ptep_get(table, a);
      if (p.kind === 'present' && p.dirty) set_pte_at(table, a, mk_pte(p.pfn, p.write, false, p.protnone));
    }
    folio_mark_lazyfree(folio);
    addr += nr - 1;
  }
  yield* spin_unlock(table.ptl);
  yield* cond_resched();
}

/**
 * madvise_folio_pte_batch() (folio_pte_batch): how many PTEs from addr, up
 * to end, map consecutive pages of the folio, the first one `pfn`.
 * We enter with the PT lock held.
 */
function madvise_folio_pte_batch(table: PteTable, addr: number, end: number, pfn: number, folio: Folio): number {
  const last = folio.pfn + (1 << folio.order);
  let nr = 1;
  while (addr + nr < end && pmd_index(addr + nr) === pmd_index(addr) && pfn + nr < last) {
    const p = ptep_get(table, addr + nr);
    if (p.kind !== 'present' || p.pfn !== pfn + nr) break;
    nr++;
  }
  return nr;
}

/**
 * madvise_free_huge_pmd() (mm/huge_memory.c): a huge PMD in the range. If
 * other processes map the folio we could not discard it unless they all do
 * MADV_FREE: skip it. A range that covers only part of it splits it
 * (split_folio), so that MADV_FREE deactivates only those pages: the caller
 * walks the PTEs then. Else the folio is cleaned, the PMD made clean and the
 * folio lazyfree. True if the PMD was dealt with.
 * We enter with mmap_lock held for read and no PMD lock; we return the same.
 */
function* madvise_free_huge_pmd(vma: VmArea, addr: number, next: number): KGen<boolean> {
  const mm = vma.vm_mm;
  const idx = pmd_index(addr);
  // ptl = pmd_trans_huge_lock(pmd, vma)
  const ptl = yield* pmd_lock(mm);
  const orig = mm.pgd[idx];
  // The huge zero folio: nothing to free (goto out); the PTE walk finds no table.
  if (!pmd_trans_huge(orig) || is_huge_zero_pmd(orig)) {
    yield* spin_unlock(ptl);
    return false;
  }
  const folio = pfn_folio(orig.pfn);
  if (folio_likely_mapped_shared(folio) || !(yield* bit_trylock(folio.lock))) {
    yield* spin_unlock(ptl);
    return false;
  }
  // If user want to discard part-pages of THP, split it so MADV_FREE will deactivate only them.
  if (next - addr !== HPAGE_PMD_NR) {
    folio_get(folio);
    yield* spin_unlock(ptl);
    yield* split_folio(folio);
    yield* bit_unlock(folio.lock);
    folio_put(folio);
    return false;
  }
  folio.flags &= ~PG_dirty; // folio_clear_dirty()
  yield* bit_unlock(folio.lock);
  // pmdp_invalidate(), pmd_mkold(pmd_mkclean()), set_pmd_at()
  if (orig.dirty) mm.pgd[idx] = mk_huge_pmd(orig.pfn, orig.write, false, orig.protnone);
  folio_mark_lazyfree(folio);
  yield* spin_unlock(ptl);
  return true;
}

/**
 * folio_mark_lazyfree() (mm/swap.c): a swap-backed anon folio outside the
 * swap cache goes to the file LRU, no longer swap-backed (lru_lazyfree(),
 * done at once here rather than from a per-CPU batch).
 */
function folio_mark_lazyfree(folio: Folio): void {
  if (folio_test_anon(folio) && folio.flags & PG_swapbacked && !(folio.flags & PG_swapcache)) folio.flags &= ~PG_swapbacked;
}

/** madvise_free_single_vma(): MADV_FREE works for only anon vma at the moment. */
function* madvise_free_single_vma(vma: VmArea, start: number, end: number): KGen<number> {
  if (!vma_is_anonymous(vma)) return -EINVAL;
  for (let addr = start; addr < end; ) {
    const next = pmd_addr_end(addr, end);
    yield 'walk_page_range: read pmd';
    if (pmd_trans_huge(vma.vm_mm.pgd[pmd_index(addr)]) && (yield* madvise_free_huge_pmd(vma, addr, next))) {
      addr = next;
      continue;
    }
    if (vma.vm_mm.pgd[pmd_index(addr)]) yield* madvise_free_pte_range(vma, addr, next);
    addr = next;
  }
  return 0;
}

/** madvise_willneed() for anon: read the range's swapped-out pages into the swap cache. */
function* madvise_willneed(vma: VmArea, start: number, end: number): KGen {
  for (let addr = start; addr < end; addr++) {
    yield 'swapin_walk_pmd_entry: ptep_get';
    // A huge PMD has no swap entries: the walk skips it (pmd_trans_huge).
    const pte = pmd_table(vma.vm_mm.pgd[pmd_index(addr)])?.ptes[pte_index(addr)];
    if (pte?.kind !== 'swap') continue;
    const folio = yield* read_swap_cache_async(swp_entry(pte.type, pte.offset));
    if (folio) folio_put(folio);
  }
}

/**
 * madvise_update_vma(): merge [start, end) into a neighbour that has the new
 * flags, or split off what lies outside; then set the flags, write-locked.
 */
function* madvise_update_vma(vma: VmArea, start: number, end: number, newflags: number): KGen<number> {
  if (newflags === vma.vm_flags) return 0;
  const r = yield* vma_modify_flags(vma_modify_prev(vma, start), vma, start, end, newflags);
  if (typeof r === 'number') return r;
  yield* vma_start_write(r);
  r.vm_flags = newflags; // vm_flags_reset()
  return 0;
}

function newFlags(flags: number, advice: Advice): number {
  switch (advice) {
    case 'WIPEONFORK':
      return flags | VM_WIPEONFORK;
    case 'KEEPONFORK':
      return flags & ~VM_WIPEONFORK;
    case 'DONTFORK':
      return flags | VM_DONTCOPY;
    case 'DOFORK':
      return flags & ~VM_DONTCOPY;
    case 'HUGEPAGE':
    case 'NOHUGEPAGE':
      return hugepage_madvise(flags, advice);
    default:
      return flags;
  }
}

/** madvise_vma_behavior(): one VMA's part of the range. */
function* madvise_vma_behavior(vma: VmArea, start: number, end: number, advice: Advice): KGen<number> {
  if (is_vm_hugetlb_page(vma)) {
    const r = yield* hugetlb_madvise(vma, start, end, advice);
    if (r !== undefined) return r;
  }
  if (advice === 'DONTNEED') {
    yield* zap_page_range_single(vma, start, end);
    return 0;
  }
  if (advice === 'FREE') return yield* madvise_free_single_vma(vma, start, end);
  if (advice === 'PAGEOUT') {
    yield* madvise_cold_or_pageout_pte_range(vma, start, end, true);
    return 0;
  }
  if (advice === 'WILLNEED') {
    yield* madvise_willneed(vma, start, end);
    return 0;
  }
  if (advice === 'COLD') {
    // madvise_cold_page_range(): the deactivation is not modelled; a THP the range covers in part is split.
    yield* madvise_cold_or_pageout_pte_range(vma, start, end, false);
    return 0;
  }
  // MADV_WIPEONFORK is only supported on anonymous memory.
  if (advice === 'WIPEONFORK' && (vma.vm_file || vma.vm_flags & VM_SHARED)) return -EINVAL;
  const newflags = newFlags(vma.vm_flags, advice);
  // hugepage_madvise(): khugepaged_enter_vma(vma, *vm_flags)
  if (advice === 'HUGEPAGE') khugepaged_enter_vma(vma, newflags);
  return yield* madvise_update_vma(vma, start, end, newflags);
}

/**
 * do_madvise(): the syscall. Unmapped holes in the range give -ENOMEM after
 * the mapped parts have been advised, as in the kernel; a zero length does
 * nothing and succeeds.
 */
export function* do_madvise(mm: MmStruct, start: number, len: number, advice: Advice): KGen<number> {
  if (start < 0 || len < 0) return -EINVAL;
  const end = start + len;
  if (end === start) return 0;
  const write = madvise_need_mmap_write(advice);
  if (write) yield* mmap_write_lock(mm);
  else yield* mmap_read_lock(mm);
  let unmapped_error = 0;
  let ret = 0;
  let addr = start;
  while (addr < end) {
    const vma = find_vma(mm, addr);
    if (!vma || vma.vm_start >= end) {
      unmapped_error = -ENOMEM;
      break;
    }
    if (vma.vm_start > addr) {
      unmapped_error = -ENOMEM;
      addr = vma.vm_start;
    }
    const tmp = Math.min(end, vma.vm_end);
    ret = yield* madvise_vma_behavior(vma, addr, tmp, advice);
    if (ret) break;
    addr = tmp;
  }
  if (write) yield* mmap_write_unlock(mm);
  else yield* mmap_read_unlock(mm);
  return ret || unmapped_error;
}
