/**
 * The program language's hugetlbfs ops, for the executor: files named by
 * number and shared by every process (a hugetlbfs mount), MAP_SHARED
 * mappings of them as regions, hole punch and truncate. A hugetlb region
 * counts in huge pages: inHugePages() scales the page index and count of an
 * op that names one before the executor resolves them to addresses.
 */
import { hugetlbfs_create, hugetlbfs_punch_hole, hugetlbfs_truncate, vm_mmap_hugetlbfs } from '../fs/hugetlbfs.ts';
import { HPAGE_NR_PAGES } from '../mm/hugetlb.ts';
import { PROT_READ, PROT_WRITE } from '../mm/mmap.ts';
import type { KGen } from '../sched/task.ts';
import type { Op, Prot } from './ops.ts';
import type { UserSpace } from './userspace.ts';

export type HugetlbfsOp = Extract<Op, { op: 'hugetlbCreate' | 'hugetlbMmap' | 'hugetlbPunch' | 'hugetlbTruncate' }>;

export interface HugetlbfsOutcome {
  result: number;
  addr?: number;
  pages?: number;
}

function protBits(p: Prot): number {
  return p === 'rw' ? PROT_READ | PROT_WRITE : p === 'r' ? PROT_READ : 0;
}

/** The op with its page index and count in base pages, if it names a hugetlb region. */
export function inHugePages(us: UserSpace, op: Op): Op {
  switch (op.op) {
    case 'munmap':
    case 'mprotect':
    case 'madvise': {
      const unit = us.regions.get(op.region)?.unit;
      return unit ? { ...op, page: op.page * unit, pages: op.pages * unit } : op;
    }
    case 'read':
    case 'write':
    case 'pin': {
      const unit = us.regions.get(op.region)?.unit;
      return unit ? { ...op, page: op.page * unit } : op;
    }
    default:
      // mremap of a hugetlb VMA fails with EINVAL whatever its length.
      return op;
  }
}

/** Run one hugetlbfs op in address space `us`. */
export function* runHugetlbfsOp(us: UserSpace, op: HugetlbfsOp): KGen<HugetlbfsOutcome> {
  switch (op.op) {
    case 'hugetlbCreate':
      return { result: yield* hugetlbfs_create(op.file, op.hpages * HPAGE_NR_PAGES) };
    case 'hugetlbMmap': {
      const len = op.hpages * HPAGE_NR_PAGES;
      const addr = yield* vm_mmap_hugetlbfs(us.mm, op.file, len, protBits(op.prot), op.hpage * HPAGE_NR_PAGES);
      if (addr >= 0) us.regions.set(op.region, { start: addr, pages: len, unit: HPAGE_NR_PAGES });
      return { result: addr, addr: addr >= 0 ? addr : undefined, pages: len };
    }
    case 'hugetlbPunch':
      return { result: yield* hugetlbfs_punch_hole(op.file, op.hpage * HPAGE_NR_PAGES, op.hpages * HPAGE_NR_PAGES) };
    case 'hugetlbTruncate':
      return { result: yield* hugetlbfs_truncate(op.file, op.hpages * HPAGE_NR_PAGES) };
  }
}
