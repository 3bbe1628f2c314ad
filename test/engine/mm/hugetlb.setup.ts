// mm/hugetlb.ts as a Linux mm developer would check it against mm/hugetlb.c:
// the pool, the page cache state a fault leaves, the huge PTE a fault or a
// store makes, PMD sharing at a file offset, hugetlb_wp(), the vma_lock's
// life (DONTNEED keeps it, the final unmap drops it and from then on nobody
// shares the VMA's page tables), mprotect's unsharing, and the BUG_ONs and
// lockdep WARNs of the file. Paths no op reaches on its own (a write fault on
// a write-protected shared huge PTE, truncate inside munmap's window) are
// driven from the harness.
// The setup shared by the test/engine/mm/hugetlb.*.spec.ts files.
import assert from 'node:assert/strict';
import { Replay, kobject_freed, type KGen } from '../../../engine/index.ts';
import { is_hugetlb_pt_page, type HugetlbPtPage, HPAGE_NR_PAGES, type HugetlbFolio } from '../../../engine/mm/hugetlb.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { type RunContext, type RunResult } from '../../../engine/program/executor.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { describeViolation, runChecked } from '../../helpers/run.ts';
import { hugetlbfs_lookup, vm_mmap_hugetlbfs } from '../../../engine/fs/hugetlbfs.ts';
import { mm_alloc } from '../../../engine/kernel/fork.ts';
import { PG_dirty, PG_uptodate, type MmStruct, type Pte, type VmArea } from '../../../engine/mm/mm_types.ts';
import { vma_modify_flags, vma_modify_prev } from '../../../engine/mm/vma.ts';
import { vma_start_write } from '../../../engine/mm/mmap_lock.ts';
import { store } from '../harness.ts';

/** Sequential: the default rule runs each task to completion, lowest id first. */
export const seq = (p: Program): RunResult => {
  const r = runChecked(p, new Replay([]));
  assert.equal(r.violation, undefined, describeViolation(r));
  return r;
};

export const map = (hpages = 1, hpage = 0, file = 0, region = 0): Op => ({ op: 'hugetlbMmap', region, file, hpage, hpages, prot: 'rw' });
export const rd = (page: number, word = 0, region = 0): Op => ({ op: 'read', region, page, word });
export const wr = (page: number, value: number, word = 0, region = 0): Op => ({ op: 'write', region, page, word, value });

/** The page-table page in mm's slot for address, if any. */
export function slotOf(ctx: RunContext, pid: number, address: number): HugetlbPtPage | undefined {
  const space = [...ctx.spaces].reverse().find((s) => s.pid === pid && !kobject_freed(s.mm) && s.mm.mm_users > 0);
  const table = space?.mm.pgd[pmd_index(address)];
  return table && is_hugetlb_pt_page(table) ? table : undefined;
}

export const H = HPAGE_NR_PAGES;
export const EFAULT = -14;
export const CLEAN = PG_uptodate | PG_dirty;

export interface Mapping {
  readonly mm: MmStruct;
  readonly a: number;
  readonly vma: VmArea;
}

/** A process mapping `len` pages of hugetlbfs file `file` from page `pgoff`, MAP_SHARED. */
export function* hmap(owner: string, prot: number, len: number, pgoff = 0, file = 0): KGen<Mapping> {
  const mm = mm_alloc(owner);
  const a = yield* vm_mmap_hugetlbfs(mm, file, len, prot, pgoff);
  assert.ok(a > 0, `mmap: ${a}`);
  return { mm, a, vma: mm.mmap.find((v) => v.vm_start === a)! };
}

/** The hugetlb page-table page in mm's PMD slot for addr. */
/** mprotect_fixup()'s VMA half: vma_modify_flags(), then the flags set on what it returns. */
export function* setFlags(vma: VmArea, start: number, end: number, flags: number): KGen<VmArea> {
  const v = (yield* vma_modify_flags(vma_modify_prev(vma, start), vma, start, end, flags)) as VmArea;
  yield* vma_start_write(v);
  v.vm_flags = flags;
  return v;
}

export const slot = (mm: MmStruct, addr: number): HugetlbPtPage | undefined => mm.pgd[pmd_index(addr)] as HugetlbPtPage | undefined;
/** The huge PTE mapping addr (entry 0 of its page-table page). */
export const hpte = (mm: MmStruct, addr: number): Pte | undefined => slot(mm, addr)?.ptes[0];
export const kind = (mm: MmStruct, addr: number): string => hpte(mm, addr)?.kind ?? 'none';
export const present = (pfn: number, write: boolean, dirty: boolean): Pte => ({ kind: 'present', pfn, write, dirty, protnone: false });
export const pfnOf = (mm: MmStruct, addr: number): number => (hpte(mm, addr) as { pfn: number }).pfn;
/** The page-cache folio of file `file` at huge page index idx. */
export const cached = (idx: number, file = 0): HugetlbFolio | undefined => hugetlbfs_lookup(file)!.f_mapping.i_pages[idx] as HugetlbFolio | undefined;

export const EINVAL = -22;
