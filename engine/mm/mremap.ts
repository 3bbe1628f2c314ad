/*
 * mm/mremap.c for the model: shrink, grow in place, move (copy_vma,
 * move_page_tables / move_ptes), MREMAP_FIXED.
 */
import { SINGLE_DEPTH_NESTING } from '../locking/lock-class.ts';
import { spin_lock_nested, spin_unlock } from '../locking/spinlock.ts';
import type { KGen } from '../sched/task.ts';
import { mmap_write_lock, mmap_write_unlock, vma_start_write } from './mmap_lock.ts';
import { EFAULT, EINVAL, ENOMEM, PTE_NONE, TASK_SIZE, type MmStruct, type VmArea } from './mm_types.ts';
import {
  do_vmi_munmap,
  find_vma,
  find_vma_prev,
  get_unmapped_area,
  vm_area_dup,
  vma_expand,
  vma_link,
  vma_lookup,
} from './mmap.ts';
import { pmd_addr_end, pmd_index, pte_alloc, pte_offset_map_lock, ptep_get, set_pte_at } from './pgtable.ts';
import { anon_vma_clone, anon_vma_lock_write, anon_vma_unlock_write } from './rmap.ts';
import { kfree } from './kasan.ts';
import { is_vm_hugetlb_page } from './hugetlb.ts';

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;

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
  const fresh = mm.pgd[pmd_index(new_addr)];
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
 * copy_vma(): the VMA that will receive the moved range: the VMA before
 * new_addr extended over it if it can merge, else a new one. need_rmap_locks
 * is true when the receiving VMA may come before the old one in rmap order.
 * We enter with mmap_lock held for write.
 */
function* copy_vma(vma: VmArea, addr: number, len: number, pgoff: number): KGen<{ new_vma: VmArea; need_rmap_locks: boolean } | number> {
  const mm = vma.vm_mm;
  const prev = find_vma_prev(mm, addr);
  if (
    prev &&
    prev !== vma &&
    prev.vm_end === addr &&
    prev.vm_flags === vma.vm_flags &&
    prev.anon_vma !== undefined &&
    prev.anon_vma === vma.anon_vma &&
    prev.vm_pgoff + (prev.vm_end - prev.vm_start) === pgoff
  ) {
    yield* vma_expand(prev, prev.vm_start, addr + len, prev.vm_pgoff);
    return { new_vma: prev, need_rmap_locks: prev.vm_pgoff <= vma.vm_pgoff };
  }
  const new_vma = vm_area_dup(vma);
  new_vma.vm_start = addr;
  new_vma.vm_end = addr + len;
  new_vma.vm_pgoff = pgoff;
  if (yield* anon_vma_clone(new_vma, vma)) {
    kfree(new_vma);
    return -ENOMEM;
  }
  new_vma.vm_lock_seq = mm.mm_lock_seq;
  vma_link(mm, new_vma);
  return { new_vma, need_rmap_locks: false };
}

/**
 * move_vma(): move [old_addr, old_addr+old_len) of vma to new_addr, growing
 * it to new_len. We enter with mmap_lock held for write and return with it.
 */
function* move_vma(vma: VmArea, old_addr: number, old_len: number, new_len: number, new_addr: number): KGen<number> {
  const mm = vma.vm_mm;
  const new_pgoff = vma.vm_pgoff + (old_addr - vma.vm_start);
  yield* vma_start_write(vma);
  const r = yield* copy_vma(vma, new_addr, new_len, new_pgoff);
  if (typeof r === 'number') return r;
  const moved = yield* move_page_tables(vma, old_addr, r.new_vma, new_addr, old_len, r.need_rmap_locks);
  if (moved < old_len) {
    // On error, move entries back from new area to old, and unmap the new one.
    yield* move_page_tables(r.new_vma, new_addr, vma, old_addr, moved, true);
    yield* do_vmi_munmap(mm, new_addr, new_len, false);
    return -ENOMEM;
  }
  const err = yield* do_vmi_munmap(mm, old_addr, old_len, false);
  return err < 0 ? err : new_addr;
}

/**
 * mremap(): the syscall. Returns the new address or -errno.
 * new_addr is used with MREMAP_FIXED.
 */
export function* sys_mremap(mm: MmStruct, addr: number, old_len: number, new_len: number, flags: number, new_addr = 0): KGen<number> {
  if (old_len <= 0 || new_len <= 0) return -EINVAL;
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  yield* mmap_write_lock(mm);
  const ret = yield* mremap_locked(mm, addr, old_len, new_len, flags, new_addr);
  yield* mmap_write_unlock(mm);
  return ret;
}

function* mremap_locked(mm: MmStruct, addr: number, old_len: number, new_len: number, flags: number, new_addr: number): KGen<number> {
  let vma = vma_lookup(mm, addr);
  if (!vma) return -EFAULT;
  // [hugetlb] move_hugetlb_page_tables() is not modelled.
  if (is_vm_hugetlb_page(vma)) return -EINVAL;
  if (flags & MREMAP_FIXED) return yield* mremap_to(mm, addr, old_len, new_addr, new_len);

  // Always allow a shrinking remap: that just unmaps the unnecessary pages.
  if (old_len >= new_len) {
    // Nothing to unmap (and do_vmi_munmap() refuses a zero length): the
    // mapping is already what was asked for. Current kernels say so before
    // anything else (vrm_remap_type(): MREMAP_NO_RESIZE).
    if (old_len === new_len) return addr;
    const err = yield* do_vmi_munmap(mm, addr + new_len, old_len - new_len, false);
    return err < 0 ? err : addr;
  }
  // Ok, we need to grow.
  if (addr + old_len > vma.vm_end) return -EFAULT; // vma_to_resize
  const delta = new_len - old_len;
  if (old_len === vma.vm_end - addr) {
    // Can we just expand the current mapping?
    const next = find_vma(mm, vma.vm_end);
    const room = next ? next.vm_start : TASK_SIZE;
    if (vma.vm_end + delta <= room) {
      yield* vma_expand(vma, vma.vm_start, vma.vm_end + delta, vma.vm_pgoff);
      return addr;
    }
  }
  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const to = get_unmapped_area(mm, new_len);
  if (to < 0) return to;
  vma = vma_lookup(mm, addr)!;
  return yield* move_vma(vma, addr, old_len, new_len, to);
}

/** mremap_to(): MREMAP_FIXED: clear the destination, shrink, then move. */
function* mremap_to(mm: MmStruct, addr: number, old_len: number, new_addr: number, new_len: number): KGen<number> {
  if (new_addr < 0 || new_addr + new_len > TASK_SIZE) return -EINVAL;
  // The new range may not overlap the old one.
  if (addr + old_len > new_addr && new_addr + new_len > addr) return -EINVAL;
  let err = yield* do_vmi_munmap(mm, new_addr, new_len, false);
  if (err < 0) return err;
  if (old_len > new_len) {
    err = yield* do_vmi_munmap(mm, addr + new_len, old_len - new_len, false);
    if (err < 0) return err;
    old_len = new_len;
  }
  const vma = vma_lookup(mm, addr);
  if (!vma || addr + old_len > vma.vm_end) return -EFAULT;
  return yield* move_vma(vma, addr, old_len, new_len, new_addr);
}
