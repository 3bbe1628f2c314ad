/*
 * include/linux/mmap_lock.h and the per-VMA write side of mm/mmap_lock.c.
 *
 * mmap_write_unlock() ends every VMA write section at once by advancing
 * mm->mm_lock_seq (vma_end_write_all): a VMA whose vm_lock_seq equals the mm's
 * is write-locked for as long as the mmap_lock is held for write.
 */
import { down_read, down_read_trylock, down_write, downgrade_write, up_read, up_write } from '../locking/rwsem.ts';
import { BUG_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import type { MmStruct, VmArea } from './mm_types.ts';

export function* mmap_read_lock(mm: MmStruct): KGen {
  yield* down_read(mm.mmap_lock);
}

export function* mmap_read_trylock(mm: MmStruct): KGen<boolean> {
  return yield* down_read_trylock(mm.mmap_lock);
}

export function* mmap_read_unlock(mm: MmStruct): KGen {
  yield* up_read(mm.mmap_lock);
}

/** `subclass` is SINGLE_DEPTH_NESTING for the child's mm in dup_mmap. */
export function* mmap_write_lock(mm: MmStruct, subclass = 0): KGen {
  yield* down_write(mm.mmap_lock, subclass);
}

export function* mmap_write_unlock(mm: MmStruct): KGen {
  vma_end_write_all(mm);
  yield* up_write(mm.mmap_lock);
}

export function* mmap_write_downgrade(mm: MmStruct): KGen {
  vma_end_write_all(mm);
  yield* downgrade_write(mm.mmap_lock);
}

function vma_end_write_all(mm: MmStruct): void {
  mm.mm_lock_seq++;
  // End the vm_sequence write sections vma_start_write() began, so that
  // speculative faults on these VMAs may run again. Detached VMAs stay odd:
  // a speculative fault must never commit into one.
  for (const vma of mm.mmap) if (vma.vm_sequence.sequence & 1) vma.vm_sequence.sequence++;
}

export function mmap_assert_locked(mm: MmStruct, fn: string): void {
  BUG_ON(!mm.mmap_lock.heldByCurrent(), fn, `mmap_lock of ${mm.kname} not held`);
}

export function mmap_assert_write_locked(mm: MmStruct, fn: string): void {
  BUG_ON(mm.mmap_lock.writer === undefined || !mm.mmap_lock.heldByCurrent(), fn, `mmap_lock of ${mm.kname} not held for write`);
}

/**
 * vma_start_write(): mark the VMA write-locked until mmap_write_unlock. Waits
 * for per-VMA-lock readers (faults under lock_vma_under_rcu) to leave.
 * We enter and return with mmap_lock held for write.
 */
export function* vma_start_write(vma: VmArea): KGen {
  const mm = vma.vm_mm;
  mmap_assert_write_locked(mm, 'vma_start_write');
  if (vma.vm_lock_seq === mm.mm_lock_seq) {
    // Born write-locked (a split's new half): its change starts now.
    vm_write_begin(vma);
    return;
  }
  yield* down_write(vma.vm_lock);
  vma.vm_lock_seq = mm.mm_lock_seq;
  vm_write_begin(vma);
  yield* up_write(vma.vm_lock);
}

/**
 * vm_write_begin() (the speculative-fault RFC): vm_sequence odd until
 * mmap_write_unlock. The other side is handle_speculative_fault(), which
 * samples the count before its walk and checks it again under the PT lock.
 */
function vm_write_begin(vma: VmArea): void {
  if (!(vma.vm_sequence.sequence & 1)) vma.vm_sequence.sequence++;
}

export function vma_assert_write_locked(vma: VmArea, fn: string): void {
  BUG_ON(vma.vm_lock_seq !== vma.vm_mm.mm_lock_seq, fn, `${vma} not write-locked (vma_start_write missing)`);
}
