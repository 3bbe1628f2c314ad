/*
 * mm/mmap.c and the split/shrink half of mm/vma.c for the model: the VMA
 * tree, anonymous private mmap (merging with its neighbours: vma.ts) and
 * shared anonymous mmap (a shmem file per mapping: shmem.ts), munmap
 * with VMA splits, vma_shrink under the rmap locks the kernel takes
 * (vma_prepare / vma_complete), exit_mmap, and exec's relocate_vma_down; and
 * the stack: stack_guard_gap, vm_start_gap, expand_stack_locked and exec's
 * mmap_read_lock_maybe_expand (v6.18; the fault side, lock_mm_and_find_vma,
 * is in memory.ts, and expand_downwards in vma.ts, as in mm/vma.c).
 * Merging (vma_merge_*, vma_expand, vma_modify_flags) is in vma.ts.
 */
import { thp_get_unmapped_area, vma_adjust_trans_huge } from './huge_memory.ts';
import { call_rcu } from '../locking/rcu.ts';
import { BUG_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { kfree } from './kasan.ts';
import {
  free_pgd_range,
  free_pgtables,
  tlb_finish_mmu,
  tlb_gather_mmu,
  unmap_vmas,
} from './memory.ts';
import {
  mmap_assert_write_locked,
  mmap_read_unlock,
  mmap_write_downgrade,
  mmap_write_lock,
  mmap_write_unlock,
  mmap_read_lock,
  vma_start_write,
} from './mmap_lock.ts';
import {
  EFAULT,
  EINVAL,
  ENOMEM,
  HPAGE_PMD_NR,
  MMAP_MIN_ADDR,
  TASK_SIZE,
  VM_GROWSDOWN,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  VmArea,
  type MmStruct,
} from './mm_types.ts';
import { move_page_tables } from './mremap.ts';
import {
  anon_vma_clone,
  anon_vma_interval_tree_post_update_vma,
  anon_vma_interval_tree_pre_update_vma,
  anon_vma_lock_write,
  anon_vma_unlock_write,
} from './rmap.ts';
import { vma_complete_file, vma_link_file, vma_prepare_file } from '../fs/fs.ts';
import { shmem_zero_setup } from './shmem.ts';
import { hugetlb_vm_op_open, hugetlb_vm_op_split, is_vm_hugetlb_page } from './hugetlb.ts';
import { VMG_STATE, expand_downwards, vma_expand, vma_merge_new_range } from './vma.ts';

export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
/** mmap(MAP_SHARED | MAP_ANONYMOUS): a shared anonymous mapping, a shmem file of its own (shmem_zero_setup). */
export const MAP_SHARED = 0x01;
/** mmap(MAP_GROWSDOWN): a stack; a fault just below it grows it (lock_mm_and_find_vma). */
export const MAP_GROWSDOWN = 0x100;

export function calc_vm_prot_bits(prot: number): number {
  return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0);
}

/** calc_vm_flag_bits(): the VM_ flags an anonymous mmap's MAP_ flags ask for. */
export function calc_vm_flag_bits(flags: number): number {
  return flags & MAP_GROWSDOWN ? VM_GROWSDOWN : 0;
}

/* ---------------------------------------------------------- the stack */

/**
 * stack_guard_gap: the enforced gap between an expanding stack and the
 * mapping below it. Linux's default is 256 pages, the model's whole address
 * space: the model runs as if booted with stack_guard_gap=1 (one page).
 */
export const stack_guard_gap = 1;

/** vm_start_gap(): where a VMA's start gap begins (a grows-down VMA keeps stack_guard_gap free below it). */
export function vm_start_gap(vma: VmArea): number {
  const gap = vma.vm_flags & VM_GROWSDOWN ? stack_guard_gap : 0;
  return Math.max(vma.vm_start - gap, 0);
}

/**
 * expand_stack_locked(): grow the stack VMA down to address (the model has
 * no CONFIG_STACK_GROWSUP). We enter and return with mmap_lock held for write.
 */
export function* expand_stack_locked(vma: VmArea, address: number): KGen<number> {
  return yield* expand_downwards(vma, address);
}

/**
 * mmap_read_lock_maybe_expand(): exec's get_arg_page() for the new, not yet
 * visible stack: the read lock, after growing the stack down to addr under the
 * write lock if a write needs it. false: the expansion failed, no lock held.
 */
export function* mmap_read_lock_maybe_expand(mm: MmStruct, new_vma: VmArea, addr: number, write: boolean): KGen<boolean> {
  if (!write || addr >= new_vma.vm_start) {
    yield* mmap_read_lock(mm);
    return true;
  }
  if (!(new_vma.vm_flags & VM_GROWSDOWN)) return false;
  yield* mmap_write_lock(mm);
  if (yield* expand_downwards(new_vma, addr)) {
    yield* mmap_write_unlock(mm);
    return false;
  }
  yield* mmap_write_downgrade(mm);
  return true;
}

/* ------------------------------------------------------------ the tree */

/** find_vma(): the first VMA with vm_end > addr. We enter with mmap_lock held. */
export function find_vma(mm: MmStruct, addr: number): VmArea | undefined {
  for (const vma of mm.mmap) if (vma.vm_end > addr) return vma;
  return undefined;
}

/** vma_lookup(): the VMA containing addr, if any. */
export function vma_lookup(mm: MmStruct, addr: number): VmArea | undefined {
  const vma = find_vma(mm, addr);
  return vma && vma.vm_start <= addr ? vma : undefined;
}

export function find_vma_prev(mm: MmStruct, addr: number): VmArea | undefined {
  let prev: VmArea | undefined;
  for (const vma of mm.mmap) {
    if (vma.vm_start >= addr) break;
    prev = vma;
  }
  return prev;
}

/** vma_link() / vma_iter_store(): insert into the sorted tree. */
export function vma_link(mm: MmStruct, vma: VmArea): void {
  let i = 0;
  while (i < mm.mmap.length && mm.mmap[i]!.vm_start < vma.vm_start) i++;
  BUG_ON(i < mm.mmap.length && mm.mmap[i]!.vm_start < vma.vm_end, 'vma_link', `${vma} overlaps ${mm.mmap[i]}`);
  BUG_ON(i > 0 && mm.mmap[i - 1]!.vm_end > vma.vm_start, 'vma_link', `${vma} overlaps ${mm.mmap[i - 1]}`);
  mm.mmap.splice(i, 0, vma);
}

/** vma_iter_clear(): take a VMA out of the tree (it is now detached). */
export function vma_detach(mm: MmStruct, vma: VmArea): void {
  const i = mm.mmap.indexOf(vma);
  BUG_ON(i < 0, 'vma_detach', `${vma} not in ${mm.kname}`);
  mm.mmap.splice(i, 1);
  // lock_vma_under_rcu() may have found it before it left: it rechecks this.
  vma.detached = true;
}

/** vm_area_dup(): a copy of the VMA, with no AVCs yet. */
export function vm_area_dup(orig: VmArea, mm: MmStruct = orig.vm_mm): VmArea {
  const vma = new VmArea(mm, orig.vm_start, orig.vm_end, orig.vm_pgoff, orig.vm_flags);
  vma.anon_vma = orig.anon_vma;
  vma.vm_file = orig.vm_file;
  vma.vm_private_data = orig.vm_private_data;
  return vma;
}

/**
 * remove_vma(): free a detached VMA. With per-VMA locks, lock_vma_under_rcu()
 * may still be looking at it: the free waits for a grace period.
 */
export function remove_vma(vma: VmArea): void {
  call_rcu(() => kfree(vma));
}

/**
 * get_unmapped_area(): top-down, like arch_get_unmapped_area_topdown() and
 * unmapped_area_topdown(): the highest gap below mm->mmap_base that fits,
 * ending below the start gap of the VMA above it (vm_start_gap: a stack's
 * guard gap stays free). -ENOMEM if none.
 * We enter with mmap_lock held for write.
 */
export function get_unmapped_area(mm: MmStruct, len: number): number {
  for (let i = mm.mmap.length; i >= 0; i--) {
    const prev = i > 0 ? mm.mmap[i - 1] : undefined;
    const next = mm.mmap[i];
    const low = prev ? prev.vm_end : MMAP_MIN_ADDR;
    const high = Math.min(next ? vm_start_gap(next) : TASK_SIZE, mm.mmap_base);
    if (high - low >= len) return high - len;
  }
  return -ENOMEM;
}

/**
 * __get_unmapped_area() for an anonymous mapping without a hint: a length
 * that is a multiple of the PMD size is aligned to it (relative to pgoff),
 * so that it can be mapped by THPs (thp_get_unmapped_area_vmflags(), Linux
 * 6.7+). mmap passes pgoff 0, mremap's move the pgoff of the old address.
 */
export function __get_unmapped_area(mm: MmStruct, len: number, pgoff = 0): number {
  if (len % HPAGE_PMD_NR === 0) {
    const addr = thp_get_unmapped_area(mm, len, pgoff);
    if (addr > 0) return addr;
  }
  return get_unmapped_area(mm, len);
}

/* -------------------------------------------- vma_prepare / vma_complete */

/**
 * vma_prepare(): before changing a VMA's range, take its anon_vma lock and
 * take it out of the interval tree (vm_pgoff is the key).
 */
function* vma_prepare(vma: VmArea, insert?: VmArea): KGen {
  yield* vma_prepare_file(vma, insert);
  if (vma.anon_vma) {
    yield* anon_vma_lock_write(vma.anon_vma);
    anon_vma_interval_tree_pre_update_vma(vma);
  }
}

function* vma_complete(vma: VmArea): KGen {
  if (vma.anon_vma) {
    anon_vma_interval_tree_post_update_vma(vma);
    yield* anon_vma_unlock_write(vma.anon_vma);
  }
  yield* vma_complete_file(vma);
}

/** vma_shrink(): cut `vma` down to [start, end). We enter with mmap_lock held for write. */
export function* vma_shrink(vma: VmArea, start: number, end: number, pgoff: number): KGen<number> {
  BUG_ON((vma.vm_start !== start && vma.vm_end !== end) || start > end, 'vma_shrink', `${vma} to [${start},${end})`);
  yield* vma_start_write(vma);
  yield* vma_prepare(vma);
  yield* vma_adjust_trans_huge(vma, start, end);
  vma.vm_start = start;
  vma.vm_end = end;
  vma.vm_pgoff = pgoff;
  yield* vma_complete(vma);
  return 0;
}

/**
 * __split_vma(): split at addr. With new_below the new VMA takes the lower
 * part, otherwise the upper. Returns the new VMA, or -ENOMEM.
 * We enter with mmap_lock held for write.
 */
export function* __split_vma(vma: VmArea, addr: number, new_below: boolean): KGen<VmArea | number> {
  const mm = vma.vm_mm;
  // vma->vm_ops->may_split
  const may_split = is_vm_hugetlb_page(vma) ? hugetlb_vm_op_split(addr) : 0;
  if (may_split) return may_split;
  const fresh = vm_area_dup(vma);
  if (new_below) fresh.vm_end = addr;
  else {
    fresh.vm_start = addr;
    fresh.vm_pgoff += addr - vma.vm_start;
  }
  const err = yield* anon_vma_clone(fresh, vma);
  if (err) {
    kfree(fresh);
    return err;
  }
  if (is_vm_hugetlb_page(fresh)) hugetlb_vm_op_open(fresh); // vma->vm_ops->open
  yield* vma_start_write(vma);
  fresh.vm_lock_seq = mm.mm_lock_seq; // vma_start_write(new): born write-locked
  yield* vma_prepare(vma, fresh);
  yield* vma_adjust_trans_huge(vma, vma.vm_start, addr);
  if (new_below) {
    vma.vm_pgoff += addr - vma.vm_start;
    vma.vm_start = addr;
  } else {
    vma.vm_end = addr;
  }
  vma_link(mm, fresh);
  yield* vma_complete(vma);
  return fresh;
}

/* -------------------------------------------------------------- mmap */

/**
 * do_mmap(): an anonymous mapping of len pages: private (a stack with
 * MAP_GROWSDOWN in flags), or with MAP_SHARED a shared one, which
 * __mmap_new_vma() backs by a shmem file of its own (shmem_zero_setup).
 * Returns the address or -errno. We enter with mmap_lock held for write (vm_mmap_pgoff takes it).
 */
export function* do_mmap(mm: MmStruct, len: number, prot: number, flags = 0): KGen<number> {
  mmap_assert_write_locked(mm, 'do_mmap');
  if (len <= 0 || len > TASK_SIZE) return -EINVAL;
  const addr = __get_unmapped_area(mm, len);
  if (addr < 0) return addr;
  let vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | VM_MAYREAD | VM_MAYWRITE;
  // Set pgoff according to addr for anon_vma.
  let pgoff = addr;
  if (flags & MAP_SHARED) {
    if (vm_flags & VM_GROWSDOWN) return -EINVAL;
    // Ignore pgoff.
    pgoff = 0;
    vm_flags |= VM_SHARED | VM_MAYSHARE;
  }
  return yield* mmap_region(mm, addr, len, vm_flags, pgoff);
}

/**
 * __mmap_region(): expand a neighbour over the range if one matches
 * (vma_merge_new_range: prev, next, or both), else a new VMA
 * (__mmap_new_vma): shared anonymous ones get their shmem file
 * (shmem_zero_setup) before the VMA is linked, then go into its i_mmap.
 * A shared anonymous range never merges: the new range has no file yet,
 * and every neighbour that is shared has one.
 */
function* mmap_region(mm: MmStruct, addr: number, len: number, vm_flags: number, pgoff: number): KGen<number> {
  const vmg = VMG_STATE(mm, addr, addr + len, vm_flags, pgoff);
  vmg.prev = find_vma_prev(mm, addr);
  vmg.next = find_vma(mm, addr);
  if (vmg.prev || vmg.next) {
    if (yield* vma_merge_new_range(vmg)) return addr;
  }
  const vma = new VmArea(mm, addr, addr + len, pgoff, vm_flags);
  if (vm_flags & VM_SHARED) yield* shmem_zero_setup(vma);
  vma.vm_lock_seq = mm.mm_lock_seq;
  vma_link(mm, vma);
  yield* vma_link_file(vma);
  return addr;
}

/** vm_mmap(): the syscall: take mmap_lock for write around do_mmap. */
export function* vm_mmap(mm: MmStruct, len: number, prot: number, flags = 0): KGen<number> {
  yield* mmap_write_lock(mm);
  const ret = yield* do_mmap(mm, len, prot, flags);
  yield* mmap_write_unlock(mm);
  return ret;
}

/* ------------------------------------------------------------- munmap */

/**
 * do_vmi_munmap(): unmap [start, start+len). The VMAs in the range are split
 * off and detached under the write lock; with `unlock` the lock is then
 * downgraded to read for the zap (faults elsewhere may proceed) and released
 * on return. Without it we return with mmap_lock still held for write.
 * We enter with mmap_lock held for write. 0 or -errno.
 */
export function* do_vmi_munmap(mm: MmStruct, start: number, len: number, unlock: boolean): KGen<number> {
  mmap_assert_write_locked(mm, 'do_vmi_munmap');
  const end = start + len;
  if (len <= 0 || start < 0 || end > TASK_SIZE) {
    if (unlock) yield* mmap_write_unlock(mm);
    return -EINVAL;
  }
  let vma = find_vma(mm, start);
  if (!vma || vma.vm_start >= end) {
    if (unlock) yield* mmap_write_unlock(mm);
    return 0;
  }
  // Split off the part before start: the existing VMA keeps it.
  if (start > vma.vm_start) {
    const r = yield* __split_vma(vma, start, false);
    if (typeof r === 'number') {
      if (unlock) yield* mmap_write_unlock(mm);
      return r;
    }
    vma = r;
  }
  const detach: VmArea[] = [];
  let v: VmArea | undefined = vma;
  while (v && v.vm_start < end) {
    let cur: VmArea = v;
    if (cur.vm_end > end) {
      // Split off the part after end: the new VMA (below) is ours to unmap.
      const r: VmArea | number = yield* __split_vma(cur, end, true);
      if (typeof r === 'number') {
        if (unlock) yield* mmap_write_unlock(mm);
        return r;
      }
      cur = r;
    }
    yield* vma_start_write(cur);
    detach.push(cur);
    v = mm.mmap[mm.mmap.indexOf(cur) + 1];
  }
  const prev = find_vma_prev(mm, start);
  for (const v of detach) vma_detach(mm, v);
  const next = find_vma(mm, end);
  if (unlock) yield* mmap_write_downgrade(mm);

  yield* unmap_region(mm, detach, prev, next, start, end);
  for (const v of detach) remove_vma(v);
  if (unlock) yield* mmap_read_unlock(mm);
  return 0;
}

/**
 * unmap_region(): zap the detached VMAs and free their page tables between
 * the neighbours that stay.
 */
function* unmap_region(mm: MmStruct, vmas: readonly VmArea[], prev: VmArea | undefined, next: VmArea | undefined, start: number, end: number): KGen {
  const tlb = tlb_gather_mmu(mm);
  yield* unmap_vmas(tlb, vmas, start, end);
  tlb_finish_mmu(tlb);
  yield* free_pgtables(tlb, vmas, prev ? prev.vm_end : 0, next ? next.vm_start : TASK_SIZE);
}

/** __vm_munmap(): the syscall. */
export function* vm_munmap(mm: MmStruct, start: number, len: number): KGen<number> {
  yield* mmap_write_lock(mm);
  return yield* do_vmi_munmap(mm, start, len, true);
}

/* --------------------------------------------------------------- exit */

/**
 * exit_mmap(): tear down an mm whose last user is gone. Zap under the read
 * lock, then free page tables and VMAs under the write lock.
 */
export function* exit_mmap(mm: MmStruct): KGen {
  yield* mmap_read_lock(mm);
  const vmas = [...mm.mmap];
  const tlb = tlb_gather_mmu(mm, true);
  yield* unmap_vmas(tlb, vmas, 0, TASK_SIZE);
  tlb_finish_mmu(tlb);
  yield* mmap_read_unlock(mm);

  yield* mmap_write_lock(mm);
  yield* free_pgtables(tlb, vmas, 0, TASK_SIZE);
  for (const vma of vmas) {
    vma_detach(mm, vma);
    remove_vma(vma);
  }
  yield* mmap_write_unlock(mm);
}

/* --------------------------------------------------------------- exec */

/**
 * relocate_vma_down(): move exec's stack VMA down by `shift` pages.
 *  1) extend the VMA to cover both the old and new ranges, keeping vm_pgoff,
 *  2) move its page tables down,
 *  3) free the page tables left behind,
 *  4) shrink the VMA to the new range.
 * Between 1 and 4 rmap computes addresses in the new range while the PTEs are
 * still (partly) in the old one: rmap walks for migration must skip this VMA,
 * which is why it is flagged VM_STACK_INCOMPLETE_SETUP until setup_arg_pages
 * clears the flag. We enter with mmap_lock held for write.
 */
export function* relocate_vma_down(vma: VmArea, shift: number): KGen<number> {
  const mm = vma.vm_mm;
  const old_start = vma.vm_start;
  const old_end = vma.vm_end;
  const length = old_end - old_start;
  const new_start = old_start - shift;
  const new_end = old_end - shift;
  BUG_ON(new_start > new_end, 'relocate_vma_down', 'new_start > new_end');
  // Ensure there are no vmas between where we want to go and where we are.
  if (find_vma(mm, new_start) !== vma) return -EFAULT;

  // Cover the whole range: [new_start, old_end).
  const vmg = VMG_STATE(mm, new_start, old_end, 0, vma.vm_pgoff);
  vmg.target = vma;
  vmg.next = mm.mmap[mm.mmap.indexOf(vma) + 1];
  if (yield* vma_expand(vmg)) return -ENOMEM;
  // Move the page tables downwards; need_rmap_locks is false: the stack is
  // flagged instead.
  if (length !== (yield* move_page_tables(vma, old_start, vma, new_start, length, false))) return -ENOMEM;

  const tlb = tlb_gather_mmu(mm);
  const next = mm.mmap[mm.mmap.indexOf(vma) + 1];
  const ceiling = next ? next.vm_start : TASK_SIZE;
  if (new_end > old_start) yield* free_pgd_range(tlb, new_end, old_end, new_end, ceiling);
  else yield* free_pgd_range(tlb, old_start, old_end, new_end, ceiling);
  tlb_finish_mmu(tlb);

  // Shrink the vma to just the new range.
  return yield* vma_shrink(vma, new_start, new_end, vma.vm_pgoff);
}
