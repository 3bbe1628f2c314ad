/*
 * mm/mremap.c for the model: shrink, grow in place (vma_merge_extend), move
 * (copy_vma, move_page_tables / move_ptes), MREMAP_FIXED, MREMAP_DONTUNMAP.
 * v6.18: the parameter checks (check_mremap_params), check_prep_vma before a
 * move or resize, and remap_move, which moves a MREMAP_FIXED range of
 * unchanged length VMA by VMA, gaps and all.
 */
import { __split_huge_pmd, move_huge_pmd } from './huge_memory.ts';
import { SINGLE_DEPTH_NESTING } from '../locking/lock-class.ts';
import { spin_lock_nested, spin_unlock } from '../locking/spinlock.ts';
import type { KGen } from '../sched/task.ts';
import { mmap_write_lock, mmap_write_unlock, vma_start_write } from './mmap_lock.ts';
import { EFAULT, EINVAL, ENOMEM, HPAGE_PMD_NR, PTE_NONE, TASK_SIZE, VM_MAYSHARE, VM_SHARED, pmd_is_huge, pmd_table, type MmStruct, type VmArea } from './mm_types.ts';
import { __get_unmapped_area, do_vmi_munmap, find_vma, find_vma_prev, vm_area_dup, vma_link, vma_lookup } from './mmap.ts';
import { BUG_ON } from '../kernel/current.ts';
import { VMG_VMA_STATE, vma_merge_copied_range, vma_merge_extend } from './vma.ts';
import { vma_is_anonymous } from './vma_lock.ts';
import { pmd_addr_end, pmd_index, pte_alloc, pte_offset_map_lock, ptep_get, set_pte_at } from './pgtable.ts';
import { anon_vma_clone, anon_vma_lock_write, anon_vma_unlock_write, unlink_anon_vmas } from './rmap.ts';
import { kfree } from './kasan.ts';
import { is_vm_hugetlb_page } from './hugetlb.ts';

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

function* take_rmap_locks(vma: VmArea): KGen {
  if (vma.anon_vma) yield* anon_vma_lock_write(vma.anon_vma);
}

function* drop_rmap_locks(vma: VmArea): KGen {
  if (vma.anon_vma) yield* anon_vma_unlock_write(vma.anon_vma);
}

/**
 * move_ptes(): move the PTEs of [old_addr, old_end) in one table to new_addr.
 *
 * When need_rmap_locks is true, we take the anon_vma lock to ensure that rmap
 * will always observe either the old or the new ptes. When it is false, we
 * rely on other ways to avoid such races:
 *  - during exec's relocate_vma_down(), the VMA is tagged
 *    VM_STACK_INCOMPLETE_SETUP and rmap walks for migration skip it;
 *  - during mremap(), new_vma is known to be placed after vma in rmap
 *    traversal order: rmap will always observe either the old pte, or the new
 *    pte, or both (the page table locks serialise access to individual ptes,
 *    but only rmap traversal order guarantees that we won't miss both).
 *
 * We enter with mmap_lock held for write. The old table's PT lock, then the
 * new one's nested (they may be the same table).
 */
function* move_ptes(vma: VmArea, old_addr: number, old_end: number, new_vma: VmArea, new_addr: number, need_rmap_locks: boolean): KGen<number> {
  const mm = vma.vm_mm;
  if (need_rmap_locks) yield* take_rmap_locks(vma);
  const old = yield* pte_offset_map_lock(mm, old_addr);
  if (!old) {
    if (need_rmap_locks) yield* drop_rmap_locks(vma);
    return -EINVAL;
  }
  yield 'move_ptes: read new pmd';
  const fresh = pmd_table(mm.pgd[pmd_index(new_addr)]);
  if (!fresh) {
    yield* spin_unlock(old.ptl);
    if (need_rmap_locks) yield* drop_rmap_locks(vma);
    return -EINVAL;
  }
  if (fresh !== old) yield* spin_lock_nested(fresh.ptl, SINGLE_DEPTH_NESTING);
  for (; old_addr < old_end; old_addr++, new_addr++) {
    const pte = ptep_get(old, old_addr);
    if (pte.kind === 'none') continue;
    set_pte_at(old, old_addr, PTE_NONE); // ptep_get_and_clear
    set_pte_at(fresh, new_addr, pte); // move_pte: anon PTEs move as they are
  }
  if (fresh !== old) yield* spin_unlock(fresh.ptl);
  yield* spin_unlock(old.ptl);
  if (need_rmap_locks) yield* drop_rmap_locks(vma);
  return 0;
}

/**
 * move_page_tables(): move len pages of page tables from old_addr in vma to
 * new_addr in new_vma, one PTE table's worth (get_extent) at a time.
 * Returns how many pages were moved. We enter with mmap_lock held for write.
 */
export function* move_page_tables(vma: VmArea, old_addr: number, new_vma: VmArea, new_addr: number, len: number, need_rmap_locks: boolean): KGen<number> {
  const mm = vma.vm_mm;
  const old_end = old_addr + len;
  let moved = 0;
  while (old_addr < old_end) {
    // get_extent(): stop at the next PMD boundary on either side.
    const extent = Math.min(pmd_addr_end(old_addr, old_end) - old_addr, pmd_addr_end(new_addr, new_addr + len) - new_addr);
    yield 'get_old_pmd';
    if (pmd_is_huge(mm.pgd[pmd_index(old_addr)])) {
      // move_pgt_entry(HPAGE_PMD, ...): a whole huge PMD (or PMD migration entry) moves as it is.
      if (extent === HPAGE_PMD_NR) {
        if (need_rmap_locks) yield* take_rmap_locks(vma);
        const ok = yield* move_huge_pmd(vma, old_addr, new_addr);
        if (need_rmap_locks) yield* drop_rmap_locks(vma);
        if (ok) {
          old_addr += extent;
          new_addr += extent;
          moved += extent;
          continue;
        }
      }
      yield* __split_huge_pmd(vma, old_addr);
    }
    if (mm.pgd[pmd_index(old_addr)]) {
      if (!(yield* pte_alloc(new_vma.vm_mm, new_addr))) break;
      if ((yield* move_ptes(vma, old_addr, old_addr + extent, new_vma, new_addr, need_rmap_locks)) < 0) continue;
    }
    old_addr += extent;
    new_addr += extent;
    moved += extent;
  }
  return moved;
}

/**
 * copy_vma() (mm/vma.c): the VMA that will receive the moved range: a
 * neighbour of new_addr expanded over it if one matches
 * (vma_merge_copied_range), else a new one. need_rmap_locks is true when the
 * receiving VMA may come before the old one in rmap order. An unfaulted
 * anonymous VMA takes the new address as its pgoff, to merge more often; it
 * may then merge with itself: `vma` is the VMA to move from afterwards.
 * We enter with mmap_lock held for write.
 */
function* copy_vma(vma: VmArea, addr: number, len: number, pgoff: number): KGen<{ vma: VmArea; new_vma: VmArea; need_rmap_locks: boolean } | number> {
  const mm = vma.vm_mm;
  const vma_start = vma.vm_start;
  let faulted_in_anon_vma = true;
  const vmg = VMG_VMA_STATE(undefined, vma, addr, addr + len);
  // If anonymous vma has not yet been faulted, update new pgoff to match new
  // location, to increase its chance of merging.
  if (vma_is_anonymous(vma) && !vma.anon_vma) {
    pgoff = addr;
    faulted_in_anon_vma = false;
  }
  vmg.prev = find_vma_prev(mm, addr);
  const next = find_vma(mm, addr);
  if (next && next.vm_start < addr + len) return -ENOMEM; // should never get here
  vmg.pgoff = pgoff;
  vmg.next = next;
  let new_vma = yield* vma_merge_copied_range(vmg);
  if (new_vma) {
    // Source vma may have been merged into new_vma: only an unfaulted one,
    // whose pgoff we were allowed to reset to the destination's.
    if (vma_start >= new_vma.vm_start && vma_start < new_vma.vm_end) {
      BUG_ON(faulted_in_anon_vma, 'copy_vma', `${vma} merged with itself at ${addr}`);
      vma = new_vma;
    }
    return { vma, new_vma, need_rmap_locks: new_vma.vm_pgoff <= vma.vm_pgoff };
  }
  new_vma = vm_area_dup(vma);
  new_vma.vm_start = addr;
  new_vma.vm_end = addr + len;
  new_vma.vm_pgoff = pgoff;
  if (yield* anon_vma_clone(new_vma, vma)) {
    kfree(new_vma);
    return -ENOMEM;
  }
  new_vma.vm_lock_seq = mm.mm_lock_seq; // vma_link(): vma_start_write(new)
  vma_link(mm, new_vma);
  return { vma, new_vma, need_rmap_locks: false };
}

/**
 * move_vma(): move [old_addr, old_addr+old_len) of vma to new_addr, growing
 * it to new_len. With MREMAP_DONTUNMAP the old range stays mapped, emptied
 * (dontunmap_complete), instead of being unmapped.
 * We enter with mmap_lock held for write and return with it.
 */
function* move_vma(vma: VmArea, old_addr: number, old_len: number, new_len: number, new_addr: number, flags: number): KGen<number> {
  const mm = vma.vm_mm;
  const new_pgoff = vma.vm_pgoff + (old_addr - vma.vm_start);
  // We don't want racing faults.
  yield* vma_start_write(vma);
  const r = yield* copy_vma(vma, new_addr, new_len, new_pgoff);
  if (typeof r === 'number') return r;
  vma = r.vma;
  const moved = yield* move_page_tables(vma, old_addr, r.new_vma, new_addr, old_len, r.need_rmap_locks);
  if (moved < old_len) {
    // On error, move entries back from new area to old, and unmap the new one.
    yield* move_page_tables(r.new_vma, new_addr, vma, old_addr, moved, true);
    yield* do_vmi_munmap(mm, new_addr, new_len, false);
    return -ENOMEM;
  }
  if (flags & MREMAP_DONTUNMAP) {
    yield* dontunmap_complete(vma, r.new_vma, old_addr, old_addr + old_len);
    return new_addr;
  }
  const err = yield* do_vmi_munmap(mm, old_addr, old_len, false);
  return err < 0 ? err : new_addr;
}

/**
 * dontunmap_complete(): the old VMA stays; if all of it was copied, its
 * anon_vma links are no longer needed now that its page tables have moved
 * (the VMA stays in the tree and is faulted afresh, with a new anon_vma).
 * The model has no VM_LOCKED to clear. We enter with mmap_lock held for
 * write and vma write-locked.
 */
function* dontunmap_complete(vma: VmArea, new_vma: VmArea, start: number, end: number): KGen {
  if (new_vma !== vma && start === vma.vm_start && end === vma.vm_end) yield* unlink_anon_vmas(vma);
}

/**
 * mremap(): the syscall. Returns the new address or -errno. new_addr is used
 * with MREMAP_FIXED (and checked, as the kernel does, with MREMAP_DONTUNMAP).
 * check_mremap_params() first, without the lock.
 */
export function* sys_mremap(mm: MmStruct, addr: number, old_len: number, new_len: number, flags: number, new_addr = 0): KGen<number> {
  if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return -EINVAL;
  if (addr < 0 || old_len < 0) return -EINVAL;
  // We allow a zero old-len (the "duplicate shm area" case, refused below
  // for private mappings), but a zero new-len is nonsensical.
  if (new_len <= 0 || new_len > TASK_SIZE) return -EINVAL;
  if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {
    if (new_addr < 0 || new_addr > TASK_SIZE - new_len) return -EINVAL;
    // A fixed address implies a move.
    if (!(flags & MREMAP_MAYMOVE)) return -EINVAL;
    // MREMAP_DONTUNMAP does not allow resizing in the process.
    if (flags & MREMAP_DONTUNMAP && old_len !== new_len) return -EINVAL;
    // Target VMA must not overlap source VMA (vrm_overlaps).
    if (old_len && addr < new_addr + new_len && new_addr < addr + old_len) return -EINVAL;
  }
  yield* mmap_write_lock(mm);
  const ret = yield* mremap_locked(mm, addr, old_len, new_len, flags, new_addr);
  yield* mmap_write_unlock(mm);
  return ret;
}

/**
 * check_prep_vma(): may the VMA at addr be resized or moved as asked? 0 or
 * -errno. The model's VM_DONTEXPAND and VM_PFNMAP VMAs are hugetlb ones,
 * refused before.
 */
function check_prep_vma(vma: VmArea | undefined, addr: number, old_len: number, new_len: number, flags: number): number {
  if (!vma) return -EFAULT;
  // [hugetlb] move_hugetlb_page_tables() is not modelled (align_hugetlb).
  if (is_vm_hugetlb_page(vma)) return -EINVAL;
  // [shmem] mremap of a file VMA (copy_vma's i_mmap link) is not modelled.
  if (vma.vm_file) return -EINVAL;
  // Below only meaningful if we expand or move a VMA.
  if (!(flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && new_len <= old_len) return 0;
  // Duplicating a private mapping (old_len 0) is not supported.
  if (!old_len && !(vma.vm_flags & (VM_SHARED | VM_MAYSHARE))) return -EINVAL;
  // We permit crossing of boundaries for the range being unmapped due to a
  // shrink. We can't remap across the end of VMAs, as another VMA may be adjacent.
  if (Math.min(old_len, new_len) > vma.vm_end - addr) return -EFAULT;
  return 0;
}

/** do_mremap()'s locked part: remap_move, or check_prep_vma and the move or resize. We enter with mmap_lock held for write. */
function* mremap_locked(mm: MmStruct, addr: number, old_len: number, new_len: number, flags: number, new_addr: number): KGen<number> {
  // vrm_move_only(): a MREMAP_FIXED move of unchanged length.
  if (flags & MREMAP_FIXED && old_len === new_len) return yield* remap_move(mm, addr, old_len, new_addr, flags);
  let vma = vma_lookup(mm, addr);
  const err = check_prep_vma(vma, addr, old_len, new_len, flags);
  if (err) return err;
  vma = vma!;
  if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) return yield* mremap_to(mm, addr, old_len, new_addr, new_len, flags);

  // Always allow a shrinking remap: that just unmaps the unnecessary pages.
  if (old_len >= new_len) {
    // Nothing to unmap (and do_vmi_munmap() refuses a zero length): the
    // mapping is already what was asked for (MREMAP_NO_RESIZE).
    if (old_len === new_len) return addr;
    const ret = yield* do_vmi_munmap(mm, addr + new_len, old_len - new_len, false);
    return ret < 0 ? ret : addr;
  }
  // Ok, we need to grow (expand_vma).
  const delta = new_len - old_len;
  if (old_len === vma.vm_end - addr) {
    // vma_expandable(): can we just expand the current mapping?
    const next = find_vma(mm, vma.vm_end);
    const room = next ? next.vm_start : TASK_SIZE;
    if (vma.vm_end + delta <= room) {
      // expand_vma_in_place(): vma_merge_extend() also merges the next VMA
      // if it becomes adjacent and matches.
      if (!(yield* vma_merge_extend(vma, delta))) return -ENOMEM;
      return addr;
    }
  }
  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const to = vrm_get_unmapped_area(mm, vma, addr, new_len);
  if (to < 0) return to;
  vma = vma_lookup(mm, addr)!;
  return yield* move_vma(vma, addr, old_len, new_len, to, flags);
}

/**
 * remap_move(): move every VMA in [addr, addr+len) to new_addr, each split
 * off as needed, keeping the gaps between them. No gap is permitted at the
 * start of the range. Returns the new address of the first, or -errno (the
 * VMAs moved before a failure stay moved). We enter with mmap_lock held for write.
 */
function* remap_move(mm: MmStruct, start: number, len: number, new_addr: number, flags: number): KGen<number> {
  const end = start + len;
  let target_addr = new_addr;
  let res = -EFAULT;
  let last_end = 0;
  let seen_vma = false;
  // for_each_vma_range(): from where the last move left off (the destination
  // never overlaps the source range: check_mremap_params).
  let from = start;
  for (let vma = find_vma(mm, from); vma && vma.vm_start < end; vma = find_vma(mm, from)) {
    // Account for start, end not aligned with VMA start, end.
    const addr = Math.max(vma.vm_start, start);
    const vlen = Math.min(end, vma.vm_end) - addr;
    // No gap permitted at the start of the range.
    if (!seen_vma && start < vma.vm_start) return -EFAULT;
    // Keep the gaps between source VMAs in the destination.
    const offset = seen_vma ? vma.vm_start - last_end : 0;
    last_end = vma.vm_end;
    from = addr + vlen;
    // vma_multi_allowed(): anonymous and hugetlb VMAs are.
    let res_vma = check_prep_vma(vma, addr, vlen, vlen, flags);
    if (!res_vma) res_vma = yield* mremap_to(mm, addr, vlen, target_addr + offset, vlen, flags);
    if (res_vma < 0) return res_vma;
    if (!seen_vma) res = res_vma;
    seen_vma = true;
    target_addr = res_vma + vlen;
  }
  return res;
}

/**
 * vrm_set_new_addr()'s get_unmapped_area(vma->vm_file, 0, new_len, pgoff,
 * map_flags): a free area for the move, with the pgoff of the old address,
 * so that a PMD-multiple length lands congruent to it modulo the PMD size
 * (__get_unmapped_area's THP alignment) and a huge PMD can move whole
 * (move_huge_pmd). The model only moves anonymous private VMAs
 * (check_prep_vma), so there is no file or MAP_SHARED case.
 */
function vrm_get_unmapped_area(mm: MmStruct, vma: VmArea, addr: number, new_len: number): number {
  return __get_unmapped_area(mm, new_len, vma.vm_pgoff + (addr - vma.vm_start));
}

/**
 * mremap_to(): a move to a new address: MREMAP_FIXED clears the destination
 * first and may shrink; MREMAP_DONTUNMAP alone moves to a free area.
 */
function* mremap_to(mm: MmStruct, addr: number, old_len: number, new_addr: number, new_len: number, flags: number): KGen<number> {
  let vma: VmArea | undefined;
  if (flags & MREMAP_FIXED) {
    const err = yield* do_vmi_munmap(mm, new_addr, new_len, false);
    if (err < 0) return err;
    // If we remap a portion of a VMA elsewhere in the same VMA, this can
    // invalidate the old VMA. Reset.
    vma = vma_lookup(mm, addr);
    if (!vma) return -EFAULT;
  }
  if (old_len > new_len) {
    const err = yield* do_vmi_munmap(mm, addr + new_len, old_len - new_len, false);
    if (err < 0) return err;
    old_len = new_len;
  }
  // vrm_set_new_addr(): a free area unless MREMAP_FIXED.
  if (!(flags & MREMAP_FIXED)) {
    const old = vma_lookup(mm, addr);
    if (!old) return -EFAULT;
    const to = vrm_get_unmapped_area(mm, old, addr, new_len);
    if (to < 0) return to;
    new_addr = to;
  }
  vma = vma_lookup(mm, addr);
  if (!vma || addr + old_len > vma.vm_end) return -EFAULT;
  return yield* move_vma(vma, addr, old_len, new_len, new_addr, flags);
}
