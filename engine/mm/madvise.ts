/*
 * mm/madvise.c for the model: DONTNEED (zap under the read lock),
 * WIPEONFORK / KEEPONFORK and DONTFORK / DOFORK (flags, under the write lock,
 * splitting at the range ends). PAGEOUT, COLD and WILLNEED come with [swap].
 */
import type { KGen } from '../sched/task.ts';
import { zap_page_range_single } from './memory.ts';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock, vma_start_write } from './mmap_lock.ts';
import { EINVAL, ENOMEM, TASK_SIZE, VM_DONTCOPY, VM_WIPEONFORK, type MmStruct, type VmArea } from './mm_types.ts';
import { __split_vma, find_vma } from './mmap.ts';

export type Advice = 'DONTNEED' | 'WIPEONFORK' | 'KEEPONFORK' | 'DONTFORK' | 'DOFORK';

/** madvise_need_mmap_write(): only the flag-changing advice takes the write lock. */
function madvise_need_mmap_write(advice: Advice): boolean {
  return advice !== 'DONTNEED';
}

/** madvise_update_vma(): split off what lies outside [start, end), then set the flags. */
function* madvise_update_vma(vma: VmArea, start: number, end: number, newflags: number): KGen<number> {
  if (newflags === vma.vm_flags) return 0;
  if (start > vma.vm_start) {
    const r = yield* __split_vma(vma, start, false);
    if (typeof r === 'number') return r;
    vma = r;
  }
  if (end < vma.vm_end) {
    const r = yield* __split_vma(vma, end, true);
    if (typeof r === 'number') return r;
    vma = r;
  }
  yield* vma_start_write(vma);
  vma.vm_flags = newflags;
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
    case 'DONTNEED':
      return flags;
  }
}

/** madvise_vma_behavior(): one VMA's part of the range. */
function* madvise_vma_behavior(vma: VmArea, start: number, end: number, advice: Advice): KGen<number> {
  if (advice === 'DONTNEED') {
    yield* zap_page_range_single(vma, start, end);
    return 0;
  }
  return yield* madvise_update_vma(vma, start, end, newFlags(vma.vm_flags, advice));
}

/**
 * do_madvise(): the syscall. Unmapped holes in the range give -ENOMEM after
 * the mapped parts have been advised, as in the kernel.
 */
export function* do_madvise(mm: MmStruct, start: number, len: number, advice: Advice): KGen<number> {
  const end = start + len;
  if (len <= 0 || start < 0 || end > TASK_SIZE) return -EINVAL;
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
