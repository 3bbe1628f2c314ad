/*
 * mm/madvise.c for the model: DONTNEED (zap under the read lock),
 * WIPEONFORK / KEEPONFORK and DONTFORK / DOFORK (flags, under the write lock,
 * splitting at the range ends), PAGEOUT (reclaim the range's unshared anon
 * folios), WILLNEED (swap-in readahead of its swap entries) and COLD (which
 * only moves folios to the inactive LRU: the model has no LRU, so nothing).
 */
import type { KGen } from '../sched/task.ts';
import { zap_page_range_single } from './memory.ts';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from './mmap_lock.ts';
import { spin_unlock } from '../locking/spinlock.ts';
import { EINVAL, ENOMEM, VM_DONTCOPY, VM_SHARED, VM_WIPEONFORK, type Folio, type MmStruct, type VmArea } from './mm_types.ts';
import { folio_put, folio_try_get, pfn_folio } from './page_alloc.ts';
import { pmd_addr_end, pmd_index, pte_index, pte_offset_map_lock, ptep_get } from './pgtable.ts';
import { folio_test_anon } from './rmap.ts';
import { swp_entry } from './swap.ts';
import { read_swap_cache_async } from './swap_state.ts';
import { shrink_folio } from './vmscan.ts';
import { find_vma } from './mmap.ts';
import { vma_modify_flags, vma_modify_prev } from './vma.ts';
import { vma_start_write } from './mmap_lock.ts';
import { hugetlb_madvise, is_vm_hugetlb_page } from './hugetlb.ts';

export type Advice = 'DONTNEED' | 'WIPEONFORK' | 'KEEPONFORK' | 'DONTFORK' | 'DOFORK' | 'PAGEOUT' | 'COLD' | 'WILLNEED';

/** madvise_need_mmap_write(): only the flag-changing advice takes the write lock. */
function madvise_need_mmap_write(advice: Advice): boolean {
  return advice !== 'DONTNEED' && advice !== 'PAGEOUT' && advice !== 'COLD' && advice !== 'WILLNEED';
}

/**
 * madvise_cold_or_pageout_pte_range() + reclaim_pages(): isolate (take a
 * reference on) every anon folio mapped once in the range, under the PT lock;
 * then reclaim them. Folios mapped by others are left alone.
 * We enter with mmap_lock held for read.
 */
function* madvise_pageout(vma: VmArea, start: number, end: number): KGen {
  const isolated: Folio[] = [];
  for (let addr = start; addr < end; ) {
    const next = pmd_addr_end(addr, end);
    const table = yield* pte_offset_map_lock(vma.vm_mm, addr);
    if (table) {
      for (let a = addr; a < next; a++) {
        const pte = ptep_get(table, a);
        if (pte.kind !== 'present') continue;
        const folio = pfn_folio(pte.pfn);
        // Do not interfere with other mappings of this folio.
        if (!folio_test_anon(folio) || folio._mapcount !== 1) continue;
        if (folio_try_get(folio)) isolated.push(folio);
      }
      yield* spin_unlock(table.ptl);
    }
    addr = next;
  }
  for (const folio of isolated) yield* shrink_folio(folio);
}

/** madvise_willneed() for anon: read the range's swapped-out pages into the swap cache. */
function* madvise_willneed(vma: VmArea, start: number, end: number): KGen {
  for (let addr = start; addr < end; addr++) {
    yield 'swapin_walk_pmd_entry: ptep_get';
    const pte = vma.vm_mm.pgd[pmd_index(addr)]?.ptes[pte_index(addr)];
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
  if (advice === 'PAGEOUT') {
    yield* madvise_pageout(vma, start, end);
    return 0;
  }
  if (advice === 'WILLNEED') {
    yield* madvise_willneed(vma, start, end);
    return 0;
  }
  if (advice === 'COLD') return 0;
  // MADV_WIPEONFORK is only supported on anonymous memory.
  if (advice === 'WIPEONFORK' && (vma.vm_file || vma.vm_flags & VM_SHARED)) return -EINVAL;
  return yield* madvise_update_vma(vma, start, end, newFlags(vma.vm_flags, advice));
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
