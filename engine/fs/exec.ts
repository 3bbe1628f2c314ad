/*
 * fs/exec.c for the model: a new mm with a temporary stack at the top of the
 * address space (VM_STACK_INCOMPLETE_SETUP), the argument pages written into
 * it through GUP, the switch to the new mm, and setup_arg_pages() moving the
 * stack down to its final place (relocate_vma_down) before the flag is
 * cleared.
 */
import { WARN_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { mm_alloc, mmput } from '../kernel/fork.ts';
import { FOLL_FORCE, FOLL_WRITE, get_user_pages_remote } from '../mm/gup.ts';
import { mmap_read_unlock, mmap_write_lock, mmap_write_unlock, vma_start_write } from '../mm/mmap_lock.ts';
import {
  ENOMEM,
  STACK_TOP,
  STACK_TOP_MAX,
  VM_STACK_FLAGS,
  VM_STACK_INCOMPLETE_SETUP,
  VmArea,
  type MmStruct,
} from '../mm/mm_types.ts';
import { mmap_read_lock_maybe_expand, relocate_vma_down, vma_link } from '../mm/mmap.ts';
import { folio_put } from '../mm/page_alloc.ts';

/** struct linux_binprm, the parts the model uses. */
export interface LinuxBinprm {
  readonly mm: MmStruct;
  readonly vma: VmArea;
}

/**
 * __bprm_mm_init(): the temporary stack VMA, one page at STACK_TOP_MAX,
 * flagged as incomplete so that migration's rmap walks leave it alone.
 */
function* bprm_mm_init(owner: string): KGen<LinuxBinprm> {
  const mm = mm_alloc(owner);
  yield* mmap_write_lock(mm);
  const vma = new VmArea(mm, STACK_TOP_MAX - 1, STACK_TOP_MAX, STACK_TOP_MAX - 1, VM_STACK_FLAGS | VM_STACK_INCOMPLETE_SETUP);
  vma.vm_lock_seq = mm.mm_lock_seq;
  vma_link(mm, vma); // insert_vm_struct(): vm_pgoff = vm_start for anon
  yield* mmap_write_unlock(mm);
  return { mm, vma };
}

/**
 * get_arg_page(): the stack page at pos, with a reference, expanding the
 * stack down to it first (mmap_read_lock_maybe_expand); then copy_strings()
 * copies the user's argument `arg` into it. (The stack the exec leaves
 * behind grows on faults below it: lock_mm_and_find_vma.)
 */
function* get_arg_page(bprm: LinuxBinprm, pos: number, arg: number): KGen<number> {
  const mm = bprm.mm;
  // We are doing an exec(): 'current' is the process doing the exec, and
  // bprm->mm is the new process's mm: expand the stack by hand ahead of time.
  if (!(yield* mmap_read_lock_maybe_expand(mm, bprm.vma, pos, true))) return -ENOMEM;
  const folio = yield* get_user_pages_remote(mm, pos, FOLL_FORCE | FOLL_WRITE);
  yield* mmap_read_unlock(mm);
  if (!folio) return -ENOMEM;
  yield 'copy_strings: copy argument';
  folio.data[0] = arg;
  folio_put(folio);
  return 0;
}

/**
 * setup_arg_pages(): move the stack from STACK_TOP_MAX down to STACK_TOP and
 * clear VM_STACK_INCOMPLETE_SETUP. We take mmap_lock for write.
 */
function* setup_arg_pages(bprm: LinuxBinprm): KGen<number> {
  const mm = bprm.mm;
  const vma = bprm.vma;
  const stack_shift = vma.vm_end - STACK_TOP;
  yield* mmap_write_lock(mm);
  let ret = 0;
  if (stack_shift) ret = yield* relocate_vma_down(vma, stack_shift);
  if (!ret) {
    yield* vma_start_write(vma);
    vma.vm_flags &= ~VM_STACK_INCOMPLETE_SETUP;
    mm.start_stack = vma.vm_start;
    mm.arg_start = vma.vm_start;
  }
  yield* mmap_write_unlock(mm);
  return ret;
}

/**
 * do_execve(): build the new mm with one argument page per value of `argv`
 * (user space's: one word each, argv[i] on the i-th page from the top),
 * switch to it (exec_mmap drops the old one), and set the stack up. Returns
 * the new mm or -errno; on error the caller keeps its old mm.
 */
export function* do_execve(oldmm: MmStruct, owner: string, argv: readonly number[]): KGen<MmStruct | number> {
  const bprm = yield* bprm_mm_init(owner);
  // copy_strings(): from the top of the stack down.
  for (let i = 0; i < argv.length; i++) {
    const err = yield* get_arg_page(bprm, STACK_TOP_MAX - 1 - i, argv[i]!);
    if (err) {
      yield* mmput(bprm.mm);
      return err;
    }
  }
  // begin_new_exec() -> exec_mmap(): the point of no return.
  yield* mmput(oldmm);
  // Past it, a failure cannot return to the old image: Linux kills the task
  // (force_fatal_sig). The model's setup cannot fail (no allocation in it).
  const ret = yield* setup_arg_pages(bprm);
  WARN_ON(ret !== 0, 'setup_arg_pages', `failed with ${ret} after the point of no return`);
  return bprm.mm;
}
