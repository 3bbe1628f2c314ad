/**
 * The program language's hugetlbfs ops: files named by number and shared by
 * every process (a hugetlbfs mount), MAP_SHARED mappings of them as regions,
 * hole punch and truncate. A hugetlb region counts in huge pages:
 * inHugePages() scales the page index and count of an op that names one
 * before its handler resolves them to addresses.
 */
import { hugetlbfs_create, hugetlbfs_punch_hole, hugetlbfs_truncate, vm_mmap_hugetlbfs } from '../../fs/hugetlbfs.ts';
import { HPAGE_NR_PAGES } from '../../mm/hugetlb.ts';
import type { Op } from '../ops.ts';
import type { UserSpace } from '../userspace.ts';
import { protBits, type Handler } from './env.ts';

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
    case 'pin':
    case 'get': {
      const unit = us.regions.get(op.region)?.unit;
      return unit ? { ...op, page: op.page * unit } : op;
    }
    default:
      // mremap of a hugetlb VMA fails with EINVAL whatever its length.
      return op;
  }
}

export const hugetlbCreate: Handler<'hugetlbCreate'> = function* (_env, op) {
  return { result: yield* hugetlbfs_create(op.file, op.hpages * HPAGE_NR_PAGES) };
};

export const hugetlbMmap: Handler<'hugetlbMmap'> = function* (env, op) {
  const len = op.hpages * HPAGE_NR_PAGES;
  const addr = yield* vm_mmap_hugetlbfs(env.space.mm, op.file, len, protBits(op.prot), op.hpage * HPAGE_NR_PAGES);
  if (addr >= 0) env.space.regions.set(op.region, { start: addr, pages: len, unit: HPAGE_NR_PAGES });
  return { result: addr, addr: addr >= 0 ? addr : undefined, pages: len };
};

export const hugetlbPunch: Handler<'hugetlbPunch'> = function* (_env, op) {
  return { result: yield* hugetlbfs_punch_hole(op.file, op.hpage * HPAGE_NR_PAGES, op.hpages * HPAGE_NR_PAGES) };
};

export const hugetlbTruncate: Handler<'hugetlbTruncate'> = function* (_env, op) {
  return { result: yield* hugetlbfs_truncate(op.file, op.hpages * HPAGE_NR_PAGES) };
};
