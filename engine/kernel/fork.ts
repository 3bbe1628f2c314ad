/*
 * kernel/fork.c for the model: mm_alloc, dup_mm / dup_mmap, mmget / mmput /
 * mmdrop.
 */
import { khugepaged_exit } from '../mm/khugepaged.ts';
import { SINGLE_DEPTH_NESTING } from '../locking/lock-class.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import type { KGen } from '../sched/task.ts';
import { kfree } from '../mm/kasan.ts';
import { machine } from '../mm/machine.ts';
import { copy_page_range } from '../mm/memory.ts';
import { exit_mmap, vm_area_dup, vma_link } from '../mm/mmap.ts';
import { mmap_write_lock, mmap_write_unlock, vma_start_write } from '../mm/mmap_lock.ts';
import { ENOMEM, MmStruct, VM_DONTCOPY, VM_WIPEONFORK } from '../mm/mm_types.ts';
import { anon_vma_fork } from '../mm/rmap.ts';
import { mm_alloc_id } from '../mm/rmap_mm_id.ts';
import { dup_mmap_file } from '../fs/fs.ts';

/** mm_alloc(): a fresh, empty mm with one user. */
export function mm_alloc(owner: string): MmStruct {
  const mm = new MmStruct(owner);
  mm.mm_id = mm_alloc_id();
  machine().mms.push(mm);
  return mm;
}

export function mmget(mm: MmStruct): void {
  mm.mm_users++;
}

/**
 * dup_mmap(): copy the parent's VMAs and page tables into the child's mm.
 * VM_DONTCOPY VMAs are left out; VM_WIPEONFORK ones get a clean slate.
 * We take the parent's mmap_lock for write, then the child's nested: the
 * child's mm is not reachable by anyone else yet.
 */
export function* dup_mmap(mm: MmStruct, oldmm: MmStruct): KGen<number> {
  yield* mmap_write_lock(oldmm);
  // Not linked in yet - no deadlock potential:
  yield* mmap_write_lock(mm, SINGLE_DEPTH_NESTING);
  mm.mmap_base = oldmm.mmap_base;
  let retval = 0;
  for (const mpnt of [...oldmm.mmap]) {
    // Faults under the per-VMA lock must not see the parent's PTEs change.
    yield* vma_start_write(mpnt);
    if (mpnt.vm_flags & VM_DONTCOPY) continue;
    const tmp = vm_area_dup(mpnt, mm);
    if (tmp.vm_flags & VM_WIPEONFORK) {
      // VM_WIPEONFORK gets a clean slate in the child: no anon_vma until a fault.
      tmp.anon_vma = undefined;
    } else if (yield* anon_vma_fork(tmp, mpnt)) {
      kfree(tmp);
      retval = -ENOMEM;
      break;
    }
    yield* dup_mmap_file(tmp, mpnt);
    tmp.vm_lock_seq = mm.mm_lock_seq;
    vma_link(mm, tmp);
    if (!(tmp.vm_flags & VM_WIPEONFORK)) retval = yield* copy_page_range(tmp, mpnt);
    if (retval) break;
  }
  yield* mmap_write_unlock(mm);
  yield* mmap_write_unlock(oldmm);
  return retval;
}

/** dup_mm(): the child's mm, or -ENOMEM (the half-built mm is torn down). */
export function* dup_mm(oldmm: MmStruct, owner: string): KGen<MmStruct | number> {
  const mm = mm_alloc(owner);
  const err = yield* dup_mmap(mm, oldmm);
  if (err) {
    yield* mmput(mm);
    return err;
  }
  return mm;
}

/**
 * mmput(): drop a user; the last one tears the address space down and takes
 * the mm off the mmlist (swapoff walks it).
 */
export function* mmput(mm: MmStruct): KGen {
  yield 'mmput: atomic_dec_and_test(mm_users)';
  if (--mm.mm_users > 0) return;
  yield* khugepaged_exit(mm); // must run before exit_mmap
  yield* exit_mmap(mm);
  if (mm.onMmlist) {
    const m = machine();
    yield* spin_lock(m.mmlist_lock);
    m.mmlist.splice(m.mmlist.indexOf(mm), 1);
    mm.onMmlist = false;
    yield* spin_unlock(m.mmlist_lock);
  }
  mmdrop(mm);
}

/** mmdrop(): drop a reference to the struct itself; the last frees it (and its mm_id: mm_free_id). */
export function mmdrop(mm: MmStruct): void {
  if (--mm.mm_count > 0) return;
  const mms = machine().mms;
  mms.splice(mms.indexOf(mm), 1);
  kfree(mm);
}
