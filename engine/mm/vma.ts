/*
 * mm/vma.c for the model: VMA merging. Read against linux-mm's mm-unstable
 * (commit 009857a2, v6.19-rc): vma_merge_new_range, vma_merge_existing_range,
 * vma_merge_copied_range, vma_expand, commit_merge with vma_prepare /
 * vma_complete, dup_anon_vma, is_mergeable_anon_vma, can_vma_merge_before /
 * _after, vma_modify_flags, vma_merge_extend, and find_mergeable_anon_vma
 * with anon_vma_compatible / reusable_anon_vma (for anon_vma_prepare); and
 * the stack's expand_downwards with acct_stack_growth (v6.18, where it moved
 * from mm/mmap.c).
 *
 * Locks, in the kernel's order (the block at the top of rmap.ts): every path
 * here runs with mmap_lock held for write; it write-locks each VMA it will
 * change (vma_start_write: waits for per-VMA-locked faults to leave), then
 * takes i_mmap_rwsem (file VMAs) and the anon_vma root's rwsem around the
 * range change, so that an rmap walk sees each VMA either before or after it.
 * A removed VMA is detached, unlinked from its anon_vmas after the locks are
 * dropped, and freed after an RCU grace period (lock_vma_under_rcu may still
 * be looking at it).
 *
 * Simplifications: the maple tree is mm->mmap (a sorted array), so the
 * iterator, its preallocation and its -ENOMEM are gone; there are no
 * mempolicies, uffd contexts, anon_vma names, VM_STICKY flags, khugepaged or
 * uprobes; VM_SPECIAL is VM_DONTEXPAND, the only one of its flags the model
 * has (hugetlbfs sets it, so file VMAs never merge here and can_merge_remove_vma
 * only has hugetlb's vm_ops->close to refuse).
 */
import { BUG_ON, WARN_ON, current, currentStep } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import type { File } from '../fs/fs.ts';
import { vma_complete_file, vma_prepare_file } from '../fs/fs.ts';
import { is_vm_hugetlb_page } from './hugetlb.ts';
import { mmap_assert_write_locked, vma_assert_write_locked, vma_start_write } from './mmap_lock.ts';
import { machine } from './machine.ts';
import {
  EFAULT,
  ENOMEM,
  EPERM,
  MMAP_MIN_ADDR,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_READ,
  VM_WRITE,
  vma_is_accessible,
  type AnonVma,
  type MmStruct,
  type VmArea,
} from './mm_types.ts';
import { __split_vma, find_vma, find_vma_prev, remove_vma, stack_guard_gap } from './mmap.ts';
import {
  anon_vma_clone,
  anon_vma_prepare,
  anon_vma_interval_tree_post_update_vma,
  anon_vma_interval_tree_pre_update_vma,
  anon_vma_lock_write,
  anon_vma_unlock_write,
  unlink_anon_vmas,
} from './rmap.ts';

/** VM_SPECIAL: VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP; the model has VM_DONTEXPAND only. */
export const VM_SPECIAL = VM_DONTEXPAND;
const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
/** VM_IGNORE_MERGE is VM_SOFTDIRTY, which the model does not have. */
const VM_IGNORE_MERGE = 0;

export type VmaMergeState = 'start' | 'nomerge' | 'success' | 'error_nomem';

/** struct vma_merge_struct */
export interface VmaMergeStruct {
  readonly mm: MmStruct;
  prev: VmArea | undefined;
  middle: VmArea | undefined;
  next: VmArea | undefined;
  target: VmArea | undefined;
  start: number;
  end: number;
  pgoff: number;
  vm_flags: number;
  file: File | undefined;
  anon_vma: AnonVma | undefined;
  /** mremap's source VMA, whose anon_vma the merged VMA must take (vma_merge_copied_range). */
  copied_from: VmArea | undefined;
  /** vma_merge_extend(): expand prev only, never merge next. */
  just_expand: boolean;
  state: VmaMergeState;
  __adjust_middle_start: boolean;
  __adjust_next_start: boolean;
  __remove_middle: boolean;
  __remove_next: boolean;
}

/** VMG_STATE(): a new range [start, end) with these flags and pgoff. */
export function VMG_STATE(mm: MmStruct, start: number, end: number, vm_flags: number, pgoff: number): VmaMergeStruct {
  return {
    mm,
    prev: undefined,
    middle: undefined,
    next: undefined,
    target: undefined,
    start,
    end,
    pgoff,
    vm_flags,
    file: undefined,
    anon_vma: undefined,
    copied_from: undefined,
    just_expand: false,
    state: 'start',
    __adjust_middle_start: false,
    __adjust_next_start: false,
    __remove_middle: false,
    __remove_next: false,
  };
}

/** VMG_VMA_STATE(): [start, end) of an existing VMA, about to change. */
export function VMG_VMA_STATE(prev: VmArea | undefined, vma: VmArea, start: number, end: number): VmaMergeStruct {
  const vmg = VMG_STATE(vma.vm_mm, start, end, vma.vm_flags, vma.vm_pgoff + (start - vma.vm_start));
  vmg.prev = prev;
  vmg.middle = vma;
  vmg.file = vma.vm_file;
  vmg.anon_vma = vma.anon_vma;
  return vmg;
}

/** The VMA after `vma` in the tree (vma_iter_next_range), adjacent or not. */
function vma_next(vma: VmArea): VmArea | undefined {
  const mm = vma.vm_mm;
  return mm.mmap[mm.mmap.indexOf(vma) + 1];
}

/* ------------------------------------------------------- mergeability */

/** Was this VMA ever forked from a parent, i.e. may it contain CoW mappings? */
function vma_is_fork_child(vma: VmArea | undefined): boolean {
  // The list_is_singular() test is to avoid merging VMAs cloned from
  // parents. This can improve scalability caused by the anon_vma root lock.
  return vma !== undefined && vma.anon_vma !== undefined && vma.anon_vma_chain.length !== 1;
}

function is_mergeable_vma(vmg: VmaMergeStruct, merge_next: boolean): boolean {
  const vma = merge_next ? vmg.next! : vmg.prev!;
  if ((vma.vm_flags ^ vmg.vm_flags) & ~VM_IGNORE_MERGE) return false;
  if (vma.vm_file !== vmg.file) return false;
  return true;
}

function is_mergeable_anon_vma(vmg: VmaMergeStruct, merge_next: boolean): boolean {
  const tgt = merge_next ? vmg.next! : vmg.prev!;
  const src = vmg.middle; // existing merge case
  const tgt_anon = tgt.anon_vma;
  const src_anon = vmg.anon_vma;
  // We _can_ have !src, vmg->anon_vma via copy_vma(). In this instance we
  // will remove the existing VMA's anon_vmas so there are no scalability
  // concerns.
  WARN_ON(src !== undefined && src_anon !== src.anon_vma, 'is_mergeable_anon_vma', `${src} anon_vma differs from the merge's`);
  // Case 1 - we will dup_anon_vma() from src into tgt.
  if (!tgt_anon && src_anon) {
    if (vma_is_fork_child(src)) return false;
    if (vma_is_fork_child(vmg.copied_from)) return false;
    return true;
  }
  // Case 2 - we will simply use tgt's anon_vma.
  if (tgt_anon && !src_anon) return !vma_is_fork_child(tgt);
  // Case 3 - the anon_vmas are already shared.
  return src_anon === tgt_anon;
}

/**
 * Can [vmg->start, vmg->end) with vmg's flags, anon_vma and pgoff be merged
 * in front of (at a lower address and pgoff than) vmg->next? We assume the
 * next VMA may be removed as part of the merge.
 */
function can_vma_merge_before(vmg: VmaMergeStruct): boolean {
  const pglen = vmg.end - vmg.start;
  return is_mergeable_vma(vmg, true) && is_mergeable_anon_vma(vmg, true) && vmg.next!.vm_pgoff === vmg.pgoff + pglen;
}

/** Can it be merged beyond (at a higher address and pgoff than) vmg->prev? */
function can_vma_merge_after(vmg: VmaMergeStruct): boolean {
  const prev = vmg.prev!;
  return is_mergeable_vma(vmg, false) && is_mergeable_anon_vma(vmg, false) && prev.vm_pgoff + (prev.vm_end - prev.vm_start) === vmg.pgoff;
}

function can_vma_merge_left(vmg: VmaMergeStruct): boolean {
  return vmg.prev !== undefined && vmg.prev.vm_end === vmg.start && can_vma_merge_after(vmg);
}

/**
 * Can it be merged with the next VMA? If it can also be merged with prev,
 * prev's and next's anon_vmas must be compatible with EACH OTHER too.
 */
function can_vma_merge_right(vmg: VmaMergeStruct, can_merge_left: boolean): boolean {
  const next = vmg.next;
  if (!next || vmg.end !== next.vm_start || !can_vma_merge_before(vmg)) return false;
  if (!can_merge_left) return true;
  const prev = vmg.prev!;
  return !prev.anon_vma || !next.anon_vma || prev.anon_vma === next.anon_vma;
}

/** We can only remove VMAs when merging if they do not have a close hook (hugetlb's has). */
function can_merge_remove_vma(vma: VmArea): boolean {
  return !is_vm_hugetlb_page(vma);
}

/* ------------------------------------------- vma_prepare / vma_complete */

/** struct vma_prepare */
interface VmaPrepare {
  readonly vma: VmArea;
  readonly adj_next: VmArea | undefined;
  readonly remove: VmArea | undefined;
  readonly remove2: VmArea | undefined;
  readonly anon_vma: AnonVma | undefined;
  readonly file: File | undefined;
}

function init_multi_vma_prep(vma: VmArea, vmg: VmaMergeStruct): VmaPrepare {
  const removes: VmArea[] = [];
  if (vmg.__remove_middle) removes.push(vmg.middle!);
  if (vmg.__remove_next) removes.push(vmg.next!);
  const adjust = vmg.__adjust_middle_start ? vmg.middle : vmg.__adjust_next_start ? vmg.next : undefined;
  const anon_vma = vma.anon_vma ?? adjust?.anon_vma;
  WARN_ON(anon_vma !== undefined && adjust?.anon_vma !== undefined && anon_vma !== adjust.anon_vma, 'init_multi_vma_prep', `${vma} and ${adjust} have different anon_vmas`);
  return { vma, adj_next: adjust, remove: removes[0], remove2: removes[1], anon_vma, file: vma.vm_file };
}

/**
 * vma_prepare(): take the rmap locks before the ranges change: i_mmap_rwsem,
 * then the anon_vma root's rwsem, and take the VMAs whose vm_start / vm_pgoff
 * change out of the interval trees (vm_pgoff is the key).
 */
function* vma_prepare(vp: VmaPrepare): KGen {
  yield* vma_prepare_file(vp.vma, undefined, vp.adj_next);
  if (vp.anon_vma) {
    yield* anon_vma_lock_write(vp.anon_vma);
    anon_vma_interval_tree_pre_update_vma(vp.vma);
    if (vp.adj_next) anon_vma_interval_tree_pre_update_vma(vp.adj_next);
  }
}

/**
 * vma_complete(): put the VMAs back in the interval trees with their new
 * ranges, drop the locks, then retire the removed VMAs: detached, unlinked
 * from their anon_vmas, freed after a grace period.
 */
function* vma_complete(vp: VmaPrepare): KGen {
  yield* vma_complete_file(vp.vma, vp.adj_next, [vp.remove, vp.remove2]);
  if (vp.anon_vma) {
    anon_vma_interval_tree_post_update_vma(vp.vma);
    if (vp.adj_next) anon_vma_interval_tree_post_update_vma(vp.adj_next);
    yield* anon_vma_unlock_write(vp.anon_vma);
  }
  for (const remove of [vp.remove, vp.remove2]) {
    if (!remove) continue;
    // vma_mark_detached(): lock_vma_under_rcu() that found it before it left the tree rechecks this.
    remove.detached = true;
    if (remove.anon_vma) yield* unlink_anon_vmas(remove);
    if (!vp.remove2) WARN_ON(vp.vma.vm_end < remove.vm_end, 'vma_complete', `${vp.vma} ends before removed ${remove}`);
    remove_vma(remove); // vm_area_free(): after an RCU grace period
  }
}

/* ------------------------------------------------------------- merging */

/**
 * dup_anon_vma(): on a merge where the destination VMA has no anon_vma but
 * the source does (it is faulted, dst is not), dst must be linked to the
 * source's anon_vmas, or rmap would not find the pages it takes over.
 * Returns 0 or -errno; sets vmg's anon_dup for the caller's unwind.
 */
function* dup_anon_vma(dst: VmArea, src: VmArea, dup: { vma: VmArea | undefined }): KGen<number> {
  if (src.anon_vma && !dst.anon_vma) {
    // A per-VMA-locked fault on dst would install pages under an anon_vma
    // that dst is not yet linked to: dst must be write-locked.
    vma_assert_write_locked(dst, 'dup_anon_vma');
    dst.anon_vma = src.anon_vma;
    const ret = yield* anon_vma_clone(dst, src);
    if (ret) return ret;
    dup.vma = dst;
  }
  return 0;
}

/** vmg_adjust_set_range(): the VMA whose vm_start moves (middle up, or next down). */
function vmg_adjust_set_range(vmg: VmaMergeStruct): void {
  if (vmg.__adjust_middle_start) {
    const adjust = vmg.middle!;
    vma_set_range(adjust, vmg.end, adjust.vm_end, adjust.vm_pgoff + (vmg.end - adjust.vm_start));
  } else if (vmg.__adjust_next_start) {
    const adjust = vmg.next!;
    vma_set_range(adjust, vmg.end, adjust.vm_end, adjust.vm_pgoff - (adjust.vm_start - vmg.end));
  }
}

function vma_set_range(vma: VmArea, start: number, end: number, pgoff: number): void {
  vma.vm_start = start;
  vma.vm_end = end;
  vma.vm_pgoff = pgoff;
}

/** vma_iter_store_overwrite(): the target covers its new range; the VMAs it swallowed leave the tree. */
function vma_iter_store_overwrite(vp: VmaPrepare): void {
  for (const remove of [vp.remove, vp.remove2]) {
    if (!remove) continue;
    const mm = remove.vm_mm;
    const i = mm.mmap.indexOf(remove);
    BUG_ON(i < 0, 'vma_iter_store_overwrite', `${remove} not in ${mm.kname}`);
    mm.mmap.splice(i, 1);
  }
}

/**
 * commit_merge(): actually perform the merge, under the rmap locks.
 * We enter with mmap_lock held for write and every VMA involved write-locked.
 */
function* commit_merge(vmg: VmaMergeStruct): KGen<number> {
  // With __adjust_next_start we manipulate middle and adjust next, the target.
  const vma = vmg.__adjust_next_start ? vmg.middle! : vmg.target!;
  const vp = init_multi_vma_prep(vma, vmg);
  yield* vma_prepare(vp);
  vma_set_range(vma, vmg.start, vmg.end, vmg.pgoff);
  vmg_adjust_set_range(vmg);
  vma_iter_store_overwrite(vp);
  yield* vma_complete(vp);
  return 0;
}

/**
 * vma_merge_existing_range(): [vmg->start, vmg->end) of vmg->middle is about
 * to get vmg's attributes; merge it with prev and/or next if they then match.
 * Returns the merged VMA, or undefined (vmg->state says whether it was -ENOMEM).
 * The caller sets middle and prev (prev == middle when start is inside it).
 * We enter with mmap_lock held for write.
 */
function* vma_merge_existing_range(vmg: VmaMergeStruct): KGen<VmArea | undefined> {
  const middle = vmg.middle!;
  const prev = vmg.prev;
  const start = vmg.start;
  const end = vmg.end;
  const left_side = start === middle.vm_start;
  const right_side = end === middle.vm_end;
  const anon_dup: { vma: VmArea | undefined } = { vma: undefined };
  mmap_assert_write_locked(vmg.mm, 'vma_merge_existing_range');
  WARN_ON(vmg.next !== undefined, 'vma_merge_existing_range', 'vmg->next set by the caller');
  WARN_ON(start >= end, 'vma_merge_existing_range', `empty range [${start},${end})`);
  WARN_ON((middle !== prev && start !== middle.vm_start) || end > middle.vm_end, 'vma_merge_existing_range', `[${start},${end}) not within ${middle}`);
  vmg.state = 'nomerge';

  // A special mapping, or a range neither at the left nor the right side of
  // the VMA, has no chance of merging.
  if (vmg.vm_flags & VM_SPECIAL || (!left_side && !right_side)) return undefined;

  let merge_left = left_side ? can_vma_merge_left(vmg) : false;
  let next: VmArea | undefined;
  let merge_right = false;
  if (right_side) {
    next = vmg.next = vma_next(middle);
    merge_right = can_vma_merge_right(vmg, merge_left);
  }
  if (!merge_left && !merge_right) return undefined;

  let merge_both = merge_left && merge_right;
  // If we span the entire VMA, a merge implies it will be deleted.
  vmg.__remove_middle = left_side && right_side;
  // If we need to remove middle in its entirety but are unable to do so, we
  // have no sensible recourse but to abort the merge.
  if (vmg.__remove_middle && !can_merge_remove_vma(middle)) return undefined;
  // If we merge both VMAs, then next is also deleted.
  vmg.__remove_next = merge_both;
  if (vmg.__remove_next && !can_merge_remove_vma(next!)) {
    vmg.__remove_next = false;
    merge_right = false;
    merge_both = false;
  }

  // No matter what happens, we will be adjusting middle.
  yield* vma_start_write(middle);
  if (merge_right) {
    yield* vma_start_write(next!);
    vmg.target = next;
  }
  if (merge_left) {
    yield* vma_start_write(prev!);
    vmg.target = prev;
  }

  let err: number;
  if (merge_both) {
    //  |<-------------------->|
    //  |-------********-------|
    //    prev   middle   next
    //   extend  delete  delete
    vmg.start = prev!.vm_start;
    vmg.end = next!.vm_end;
    vmg.pgoff = prev!.vm_pgoff;
    // Anon_vma compatibility is ensured above: if prev has no anon_vma, take
    // next's or middle's.
    err = yield* dup_anon_vma(prev!, next!.anon_vma ? next! : middle, anon_dup);
  } else if (merge_left) {
    //  |<------------>|      OR
    //  |<----------------->|
    //  |-------*************
    //    prev     middle
    //   extend shrink/delete
    vmg.start = prev!.vm_start;
    vmg.pgoff = prev!.vm_pgoff;
    if (!vmg.__remove_middle) vmg.__adjust_middle_start = true;
    err = yield* dup_anon_vma(prev!, middle, anon_dup);
  } else {
    //      |<------------->| OR
    //  |<----------------->|
    //  *************-------|
    //     middle     next
    //  shrink/delete extend
    const pglen = vmg.end - vmg.start;
    WARN_ON(vmg.start > middle.vm_start && prev !== undefined && middle !== prev, 'vma_merge_existing_range', 'offset into a VMA that is not prev');
    if (vmg.__remove_middle) {
      vmg.end = next!.vm_end;
      vmg.pgoff = next!.vm_pgoff - pglen;
    } else {
      // We shrink middle and expand next.
      vmg.__adjust_next_start = true;
      vmg.start = middle.vm_start;
      vmg.end = start;
      vmg.pgoff = middle.vm_pgoff;
    }
    err = yield* dup_anon_vma(next!, middle, anon_dup);
  }

  if (err || (yield* commit_merge(vmg))) {
    if (anon_dup.vma) yield* unlink_anon_vmas(anon_dup.vma);
    vmg.state = 'error_nomem';
    return undefined;
  }
  vmg.state = 'success';
  return vmg.target;
}

/**
 * vma_merge_new_range(): a new VMA [vmg->start, vmg->end) is about to be
 * added: expand prev and/or next over it instead if they match.
 *
 *  Proposed:       |-----|  or  |-----|        Proposed:       |-----|
 *  Existing:  |----|                  |----|   Existing:  |----|     |----|
 *
 * Returns the expanded VMA or undefined. The caller sets prev and next and
 * has made sure the range is empty. We enter with mmap_lock held for write.
 */
export function* vma_merge_new_range(vmg: VmaMergeStruct): KGen<VmArea | undefined> {
  const prev = vmg.prev;
  const next = vmg.next;
  const end = vmg.end;
  mmap_assert_write_locked(vmg.mm, 'vma_merge_new_range');
  WARN_ON(vmg.middle !== undefined || vmg.target !== undefined, 'vma_merge_new_range', 'middle or target set by the caller');
  vmg.state = 'nomerge';

  // Special VMAs are unmergeable, also if no prev/next.
  if (vmg.vm_flags & VM_SPECIAL || (!prev && !next)) return undefined;

  const can_merge_left = can_vma_merge_left(vmg);
  const can_merge_right = !vmg.just_expand && can_vma_merge_right(vmg, can_merge_left);

  // If we can merge with the next VMA, adjust vmg accordingly.
  if (can_merge_right) {
    vmg.end = next!.vm_end;
    vmg.target = next;
  }
  // If we can merge with the previous VMA, adjust vmg accordingly.
  if (can_merge_left) {
    vmg.start = prev!.vm_start;
    vmg.target = prev;
    vmg.pgoff = prev!.vm_pgoff;
    // If this merge would remove next but we may not, merge prev and the range only.
    if (can_merge_right && !can_merge_remove_vma(next!)) vmg.end = end;
  }
  // Now try to expand adjacent VMA(s). This takes care of removing the
  // following VMA if we have VMAs on both sides.
  if (vmg.target && !(yield* vma_expand(vmg))) {
    vmg.state = 'success';
    return vmg.target;
  }
  return undefined;
}

/**
 * vma_merge_copied_range(): mremap's copy_vma(): as vma_merge_new_range, for
 * the range the source VMA (vmg->middle) is copied to.
 */
export function* vma_merge_copied_range(vmg: VmaMergeStruct): KGen<VmArea | undefined> {
  WARN_ON(!vmg.middle, 'vma_merge_copied_range', 'no copied-from VMA');
  vmg.copied_from = vmg.middle;
  vmg.middle = undefined;
  return yield* vma_merge_new_range(vmg);
}

/**
 * vma_expand(): expand vmg->target to [vmg->start, vmg->end), over
 * vmg->next too when it ends there (removing it). Returns 0 or -ENOMEM.
 * The caller sets target and next. We enter with mmap_lock held for write.
 */
export function* vma_expand(vmg: VmaMergeStruct): KGen<number> {
  const target = vmg.target!;
  const next = vmg.next;
  const anon_dup: { vma: VmArea | undefined } = { vma: undefined };
  mmap_assert_write_locked(vmg.mm, 'vma_expand');
  yield* vma_start_write(target);
  const remove_next = next !== undefined && target !== next && vmg.end === next.vm_end;
  WARN_ON(remove_next && !can_merge_remove_vma(next!), 'vma_expand', `${next} cannot be removed`);
  WARN_ON(next !== undefined && !remove_next && next !== target && vmg.end > next.vm_start, 'vma_expand', `overwrites part of ${next}`);
  WARN_ON(target.vm_start < vmg.start || target.vm_end > vmg.end, 'vma_expand', `${target} would shrink to [${vmg.start},${vmg.end})`);

  // If we are removing the next VMA or copying from a VMA (mremap), we must
  // propagate anon_vma state.
  let ret = 0;
  if (remove_next) ret = yield* dup_anon_vma(target, next!, anon_dup);
  if (!ret && vmg.copied_from) ret = yield* dup_anon_vma(target, vmg.copied_from, anon_dup);
  if (ret) return ret;

  if (remove_next) {
    yield* vma_start_write(next!);
    vmg.__remove_next = true;
  }
  if (yield* commit_merge(vmg)) {
    if (anon_dup.vma) yield* unlink_anon_vmas(anon_dup.vma);
    vmg.state = 'error_nomem';
    return -ENOMEM;
  }
  return 0;
}

/**
 * vma_modify(): [start, end) of vmg->middle changes attributes: merge with a
 * neighbour if the result matches it, else split off what lies outside.
 * Returns the VMA now covering the range (merged, or split), or -errno.
 * We enter with mmap_lock held for write.
 */
function* vma_modify(vmg: VmaMergeStruct): KGen<VmArea | number> {
  let vma = vmg.middle!;
  const start = vmg.start;
  const end = vmg.end;
  // First, try to merge.
  const merged = yield* vma_merge_existing_range(vmg);
  if (merged) return merged;
  if (vmg.state === 'error_nomem') return -ENOMEM;
  // Split any preceding portion of the VMA (the model's __split_vma returns
  // the new VMA: with new_below false that is the part from start on).
  if (vma.vm_start < start) {
    const r = yield* __split_vma(vma, start, false);
    if (typeof r === 'number') return r;
    vma = r;
  }
  // Split any trailing portion of the VMA.
  if (vma.vm_end > end) {
    const r = yield* __split_vma(vma, end, true);
    if (typeof r === 'number') return r;
    vma = r;
  }
  return vma;
}

/**
 * vma_modify_flags(): [start, end) of vma is to get vm_flags. Returns the VMA
 * that covers the range (merged with a neighbour that has them, or split
 * off) or -errno; the caller sets the flags on it, write-locked.
 * prev is the VMA before vma, or vma itself when start lies inside it.
 * We enter with mmap_lock held for write.
 */
export function* vma_modify_flags(prev: VmArea | undefined, vma: VmArea, start: number, end: number, vm_flags: number): KGen<VmArea | number> {
  const vmg = VMG_VMA_STATE(prev, vma, start, end);
  vmg.vm_flags = vm_flags;
  return yield* vma_modify(vmg);
}

/** The prev a caller of vma_modify_flags() passes: vma itself when start lies inside it. */
export function vma_modify_prev(vma: VmArea, start: number): VmArea | undefined {
  return start > vma.vm_start ? vma : find_vma_prev(vma.vm_mm, vma.vm_start);
}

/**
 * vma_merge_extend(): expand vma by delta pages at its end (mremap's
 * in-place growth), merging with the next VMA if it becomes adjacent and
 * matches. Returns the VMA or undefined (-ENOMEM).
 */
export function* vma_merge_extend(vma: VmArea, delta: number): KGen<VmArea | undefined> {
  const vmg = VMG_VMA_STATE(vma, vma, vma.vm_end, vma.vm_end + delta);
  vmg.next = find_vma(vma.vm_mm, vma.vm_end);
  vmg.middle = undefined; // We use the VMA to populate VMG fields only.
  return yield* vma_merge_new_range(vmg);
}

/* ------------------------------------------ anon_vma reuse (anon_vma_prepare) */

/**
 * anon_vma_compatible(): a rough check that a and b (adjacent, in address
 * order) could share an anon_vma: the same file, flags that differ only in
 * what mprotect may change, and linear pgoffs.
 */
function anon_vma_compatible(a: VmArea, b: VmArea): boolean {
  return (
    a.vm_end === b.vm_start &&
    a.vm_file === b.vm_file &&
    !((a.vm_flags ^ b.vm_flags) & ~(VM_ACCESS_FLAGS | VM_IGNORE_MERGE)) &&
    b.vm_pgoff === a.vm_pgoff + (b.vm_start - a.vm_start)
  );
}

/**
 * reusable_anon_vma(): old's anon_vma, if a and b are compatible and old's
 * anon_vma is its only one (not a fork child's chain). This runs with
 * mmap_lock held for reading only: another fault may be setting up old's
 * anon_vma right now (READ_ONCE), which is fine: a new one is a singleton.
 */
function* reusable_anon_vma(old: VmArea, a: VmArea, b: VmArea): KGen<AnonVma | undefined> {
  if (!anon_vma_compatible(a, b)) return undefined;
  // The other side: __anon_vma_prepare() of a fault on old, under the same read lock.
  yield 'reusable_anon_vma: READ_ONCE(old->anon_vma)';
  const anon_vma = old.anon_vma;
  if (anon_vma && old.anon_vma_chain.length === 1) return anon_vma;
  return undefined;
}

/**
 * find_mergeable_anon_vma(): anon_vma_prepare() looks at the neighbours for
 * an anon_vma to share before it allocates one, so that a repetitive
 * sequence of mprotects and faults does not leave distinct anon_vmas that
 * keep the pieces from merging back. Next first, then prev.
 * We enter with mmap_lock held (for read at least).
 */
export function* find_mergeable_anon_vma(vma: VmArea): KGen<AnonVma | undefined> {
  const mm = vma.vm_mm;
  const i = mm.mmap.indexOf(vma);
  const next = mm.mmap[i + 1];
  if (next) {
    const anon_vma = yield* reusable_anon_vma(next, vma, next);
    if (anon_vma) return anon_vma;
  }
  const prev = i > 0 ? mm.mmap[i - 1] : undefined;
  if (prev) return yield* reusable_anon_vma(prev, prev, vma);
  return undefined;
}

/* ------------------------------------------------------------- the stack */

/**
 * acct_stack_growth(): verify that the stack growth is acceptable. The model
 * has no rlimits (RLIMIT_AS, RLIMIT_STACK, RLIMIT_MEMLOCK), no overcommit
 * accounting and no hugetlb-only ranges: every growth is.
 */
function acct_stack_growth(_vma: VmArea, _size: number, _grow: number): number {
  return 0;
}

/**
 * perf_event_mmap(): tell perf about the VMA's new range. The model keeps
 * only the stack growth, for user space (engine/program reads it to learn
 * which pages its access mapped).
 */
function perf_event_mmap(vma: VmArea, old_start: number): void {
  machine().stack_expansions.push({ mm: vma.vm_mm, task: current().name, start: vma.vm_start, end: old_start, step: currentStep() });
}

/**
 * expand_downwards(): vma is the first one with address < vma->vm_start:
 * extend it down to address. 0 or -errno (-EFAULT: not a stack; -EPERM:
 * below mmap_min_addr; -ENOMEM: the guard gap to the VMA below).
 * We enter and return with mmap_lock held for write: since 8d7071af8907 ("mm:
 * always expand the stack with the mmap write lock held") that, and the VMA
 * write lock, are what keep munmap's downgraded zap and per-VMA-locked faults
 * away from the range while it changes. The anon_vma lock keeps rmap walks
 * out while vm_start and vm_pgoff (the interval tree's key) change together.
 */
export function* expand_downwards(vma: VmArea, address: number): KGen<number> {
  const mm = vma.vm_mm;
  if (!(vma.vm_flags & VM_GROWSDOWN)) return -EFAULT;
  mmap_assert_write_locked(mm, 'expand_downwards');
  if (address < MMAP_MIN_ADDR) return -EPERM;
  // Enforce stack_guard_gap
  const prev = find_vma_prev(mm, vma.vm_start);
  // Check that both stack segments have the same anon_vma?
  if (prev && !(prev.vm_flags & VM_GROWSDOWN) && vma_is_accessible(prev) && address - prev.vm_end < stack_guard_gap) return -ENOMEM;
  // We must make sure the anon_vma is allocated.
  if (yield* anon_vma_prepare(vma)) return -ENOMEM;
  // Lock the VMA before expanding to prevent concurrent page faults
  yield* vma_start_write(vma);
  // We update the anon VMA tree.
  const anon_vma = vma.anon_vma!;
  yield* anon_vma_lock_write(anon_vma);
  let error = 0;
  // Somebody else might have raced and expanded it already
  if (address < vma.vm_start) {
    const size = vma.vm_end - address;
    const grow = vma.vm_start - address;
    error = -ENOMEM;
    if (grow <= vma.vm_pgoff) {
      error = acct_stack_growth(vma, size, grow);
      if (!error) {
        const old_start = vma.vm_start;
        anon_vma_interval_tree_pre_update_vma(vma);
        vma.vm_start = address;
        vma.vm_pgoff -= grow;
        // Overwrite old entry in mtree: the model's tree is sorted by vm_start, which stays in order.
        anon_vma_interval_tree_post_update_vma(vma);
        perf_event_mmap(vma, old_start);
      }
    }
  }
  yield* anon_vma_unlock_write(anon_vma);
  return error;
}
