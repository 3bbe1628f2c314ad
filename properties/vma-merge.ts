import { report } from '../engine/kernel/current.ts';
import { VM_SPECIAL } from '../engine/mm/vma.ts';
import { VM_GROWSDOWN, type MmStruct, type VmArea } from '../engine/mm/mm_types.ts';
import type { RunContext } from '../engine/program/executor.ts';
import type { Property } from './property.ts';

/**
 * Would Linux have merged a and b (adjacent, a below b)? The same flags and
 * file, no VM_SPECIAL, b's pgoff continuing a's, and the same anon_vma: a
 * merge that takes over the other's anon_vma (dup_anon_vma) depends on
 * whether either was forked, which the tree alone does not tell, so pairs
 * with one anon_vma are not judged.
 */
function mergeable(a: VmArea, b: VmArea): boolean {
  return (
    a.vm_end === b.vm_start &&
    a.vm_flags === b.vm_flags &&
    !(a.vm_flags & VM_SPECIAL) &&
    a.vm_file === b.vm_file &&
    b.vm_pgoff === a.vm_pgoff + (a.vm_end - a.vm_start) &&
    a.anon_vma === b.anon_vma
  );
}

/**
 * A MREMAP_DONTUNMAP leaves its old VMA where it was, emptied and without an
 * anon_vma (dontunmap_complete()'s unlink_anon_vmas()), and Linux does not
 * try to merge it then. Nor later: its next fault gives it an anon_vma
 * through anon_vma_prepare() -> find_mergeable_anon_vma(), which may reuse a
 * neighbour's, and no fault merges VMAs, so the two may end up alike in
 * every way and still apart. After a successful one the tree is not judged.
 */
function dontunmapped(ctx: RunContext): boolean {
  return ctx.history.records.some((r) => r.op.op === 'mremap' && r.op.dontunmap === true && r.result >= 0);
}

/**
 * A split that succeeded stays when a later split of the same call fails:
 * munmap, mprotect, madvise and mremap (through munmap) split the first VMA,
 * then hugetlb's may_split refuses an unaligned split of a later one
 * (-EINVAL), and Linux does not merge the first split back
 * (vms_gather_munmap_vmas(), vma_modify()). After such a failure the tree is
 * not judged.
 */
function splitMayHaveStayed(ctx: RunContext): boolean {
  const recs = ctx.history.records;
  if (!recs.some((r) => r.op.op === 'hugetlbMmap' && r.result >= 0)) return false;
  return recs.some((r) => r.result < 0 && (r.op.op === 'munmap' || r.op.op === 'mprotect' || r.op.op === 'madvise' || r.op.op === 'mremap'));
}

/**
 * A stack grows down (expand_downwards) without merging: once an access has
 * grown one, a grows-down VMA may meet the grows-down VMA below it (the
 * guard gap is not kept between two stacks) and stay apart from it.
 */
function stackGrew(ctx: RunContext): boolean {
  return ctx.history.records.some((r) => (r.kind === 'read' || r.kind === 'write') && r.grown !== undefined);
}

function checkTree(mm: MmStruct, grew: boolean): void {
  for (let i = 1; i < mm.mmap.length; i++) {
    const a = mm.mmap[i - 1]!;
    const b = mm.mmap[i]!;
    if (!mergeable(a, b) || (grew && b.vm_flags & VM_GROWSDOWN)) continue;
    report('vma-merge', `${mm.kname} (${mm.owner}) has ${a} and ${b} apart (flags ${a.vm_flags.toString(16)}, pgoff ${a.vm_pgoff} and ${b.vm_pgoff}, ${a.anon_vma?.kname ?? 'no anon_vma'}): Linux would have merged them`);
  }
}

/** At quiescent points (no user thread inside an op), every mm's VMA tree is the one Linux would have. */
function checkVmaMerge(ctx: RunContext): void {
  if (ctx.busy !== 0 || splitMayHaveStayed(ctx) || dontunmapped(ctx)) return;
  const grew = stackGrew(ctx);
  for (const mm of ctx.machine.mms) if (!mm.mmap_lock.isLocked()) checkTree(mm, grew);
}

export const vmaMerge: Property = {
  name: 'vma-merge',
  description: 'at quiescent points no two adjacent VMAs that Linux would have merged (same flags, file, anon_vma, linear pgoff) are left apart',
  afterOp: checkVmaMerge,
  atEnd: checkVmaMerge,
};
