/**
 * The differences between the model and the kernel that are deliberate, in
 * one place, each with why. `kernel diff` names the abstraction a difference
 * falls under instead of reporting it as a model gap. Those marked "model
 * gap" are not abstractions but known gaps: named here so that they are
 * counted, not hidden.
 */
import { ENOMEM, EINVAL, EFAULT } from '../engine/mm/mm_types.ts';
import type { Difference } from './compare.ts';

export interface Abstraction {
  readonly name: string;
  readonly why: string;
  readonly matches: (d: Difference) => boolean;
}

const EEXIST = 17;
const maps = (d: Difference) => d.op.op === 'mmap' || d.op.op === 'hugetlbMmap' || d.op.op === 'memfdMmap' || d.op.op === 'mremap';

export const ABSTRACTIONS: readonly Abstraction[] = [
  {
    name: 'frames',
    why: 'the model has 24 frames of memory (16 in generated programs) so that reclaim and ENOMEM happen; the kernel has 24 GiB: the model fails a fault, fork or pin with ENOMEM where the kernel succeeds',
    matches: (d) => d.model.result === -ENOMEM && d.kernel.result >= 0 && !maps(d),
  },
  {
    name: 'address-space',
    why: 'the model has a 256-page address space: it fails mmap and mremap with ENOMEM where the kernel finds room',
    matches: (d) => maps(d) && d.model.result === -ENOMEM && d.kernel.result !== -ENOMEM,
  },
  {
    name: 'hugetlb-pool',
    why: 'the model has a pool of 4 huge pages and no reservations (a hugetlb fault fails with SIGBUS when the pool is empty); the kernel reserves at mmap and fails mmap with ENOMEM instead',
    matches: (d) => d.op.op === 'hugetlbMmap' && d.kernel.result === -ENOMEM,
  },
  {
    name: 'hugetlb-gup',
    why: 'the model does not model GUP of hugetlb pages (engine/mm/hugetlb.ts header): a pin or a get of a hugetlb page fails with EFAULT in the model; io_uring pins it, vmsplice references it on the kernel',
    matches: (d) => (d.op.op === 'pin' || d.op.op === 'get') && d.model.result === -EFAULT && d.kernel.result === 0,
  },
  {
    name: 'hugetlb-mremap',
    why: "the model fails every mremap of a hugetlb VMA with EINVAL (engine/program/hugetlbfs-ops.ts); Linux aligns the lengths to the huge page size and may shrink or move it. Also (model gap): the model fails a growing or moving mremap of any file VMA, a MAP_SHARED anonymous (shmem) one too, with EINVAL (check_prep_vma: copy_vma's i_mmap link is not modelled); Linux grows or moves it",
    matches: (d) => d.op.op === 'mremap' && d.model.result === -EINVAL && d.kernel.result >= 0,
  },
  {
    name: 'stack-guard-gap',
    why: "the model's stack_guard_gap is 1 page (Linux's default, 256 pages, is the model's whole address space): an access the model serves by growing a MAP_GROWSDOWN mapping down to within 256 pages of the mapping below it is a SIGSEGV (EFAULT) on the kernel",
    matches: (d) => (d.op.op === 'read' || d.op.op === 'write') && d.model.grew === true && d.kernel.result === -EFAULT,
  },
  {
    name: 'placement',
    why: "the two layouts diverged earlier, so a mapping placed where the model put it finds the kernel's place taken (MAP_FIXED_NOREPLACE: EEXIST): after an op that ran past a hugetlb region into base pages (the kernel keeps hugetlb mappings in their own arena: its huge page is 512 base pages, the model's 16)",
    matches: (d) => maps(d) && d.kernel.result === -EEXIST,
  },
  {
    name: 'hugetlb-arena',
    why: "the kernel keeps hugetlb mappings in their own arena (live/c/exec.h); the model has one address space: an op past a hugetlb region's end (it counts in huge pages) reaches base pages that in the model may be the mapping placed right there (a 16-page one ends where a 2-huge-page one begins), an op on a base-page region that runs into the model's hugetlb pages finds them mapped, and a region such an op unmapped or changed in the model is untouched on the kernel (live/hugetlb-reach.ts): the two sides' results and values differ there",
    matches: (d) => d.model.pastHugetlb === true,
  },
  {
    name: 'mremap-file (model gap)',
    why: "the model does not mremap file VMAs (engine/mm/mremap.ts, check_prep_vma: copy_vma's i_mmap link is not modelled) and fails it with EINVAL; Linux resizes and moves memfd and shared anonymous mappings",
    matches: (d) => d.op.op === 'mremap' && d.model.fileRegion === true && d.model.result === -EINVAL && d.kernel.result !== -EINVAL,
  },
  {
    name: 'madv-lru-hugetlb (model gap, docs/findings.md)',
    why: 'MADV_PAGEOUT and MADV_COLD of a hugetlb VMA fail with EINVAL on Linux (can_madv_lru_vma excludes VM_HUGETLB); the model advises it (0) or finds the range short (-ENOMEM)',
    matches: (d) => d.op.op === 'madvise' && (d.op.advice === 'PAGEOUT' || d.op.advice === 'COLD') && d.kernel.result === -EINVAL && d.model.result !== -EINVAL,
  },
  {
    name: 'thp-fallback',
    why: "THP mode: the kernel's THP allocation at fault failed (even with defrag=always: fragmentation, other tenants) and the fault fell back to small pages (VM_FAULT_FALLBACK; the machine's anon_fault_fallback count rose during the op); the model, with 512 frames, found an aligned block",
    matches: (d) => d.model.state === 'H' && d.kernel.state !== 'H' && (d.kernel.fallbacks ?? 0) > 0,
  },
  {
    name: 'khugepaged-timing',
    why: "THP mode: khugepaged collapsed a range while the op ran (the machine's pages_collapsed count rose): it scans once when the first mm registers, before its day-long sleep (live/c/thp.c); the model runs no khugepaged in kernel diff",
    matches: (d) => d.kernel.state === 'H' && d.model.state !== 'H' && (d.kernel.collapsed ?? 0) > 0,
  },
];

/** The abstraction a difference falls under, if any. */
export function abstractionOf(d: Difference): Abstraction | undefined {
  return ABSTRACTIONS.find((a) => a.matches(d));
}

/** The handles an op names: a later difference on one of them follows from an earlier explained one. */
function handlesOf(d: Difference): string[] {
  const proc = d.thread.split('.')[0];
  const op = d.op as { pin?: number; ref?: number; region?: number; fixedTo?: number; dev?: number };
  return [
    op.pin !== undefined ? `${proc} pin ${op.pin}` : '',
    op.ref !== undefined ? `${proc} ref ${op.ref}` : '',
    // Region handles are copied by fork: a child's region follows from its parent's.
    op.region !== undefined ? `region ${op.region}` : '',
    op.fixedTo !== undefined ? `region ${op.fixedTo}` : '',
    op.dev !== undefined ? `dev ${op.dev}` : '',
  ].filter((h) => h);
}

/**
 * Each difference of one run with the abstraction that explains it: its own,
 * or that of an earlier explained difference on the same pin, region or swap
 * handle (an unpin after a pin only one side made).
 */
export function explain(diffs: readonly Difference[]): (Abstraction | undefined)[] {
  const tainted = new Map<string, Abstraction>();
  return diffs.map((d) => {
    const a = abstractionOf(d) ?? handlesOf(d).map((h) => tainted.get(h)).find((x) => x);
    if (a) for (const h of handlesOf(d)) tainted.set(h, a);
    return a;
  });
}
