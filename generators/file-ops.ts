/**
 * The file-memory ops' arbitraries (memfd/tmpfs and hugetlbfs), for
 * generators/ops.ts: which file, which page, how many.
 */
import fc from 'fast-check';
import type { Op } from '../engine/program/ops.ts';

/** hugetlbfs files a program uses: few, so that processes map the same one. */
const HUGETLB_FILES = 2;

/** memfd files a program uses: few, so that processes map the same one. */
const MEMFD_FILES = 2;

/**
 * memfd ops: biased to file 0 and its first pages, so that processes map the
 * same file page and truncate or punch what others fault.
 */
export function memfdOpArb(kind: 'memfdCreate' | 'memfdMmap' | 'memfdTruncate' | 'memfdPunch', region: fc.Arbitrary<number>, maxPages: number): fc.Arbitrary<Op> {
  const file = fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.nat(MEMFD_FILES - 1), weight: 1 });
  const page = fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.nat(maxPages - 1), weight: 1 });
  const pages = fc.integer({ min: 1, max: maxPages });
  switch (kind) {
    case 'memfdCreate':
      return fc.record({ op: fc.constant('memfdCreate' as const), file, pages });
    case 'memfdMmap':
      return fc.record({
        op: fc.constant('memfdMmap' as const),
        region,
        file,
        page,
        pages,
        prot: fc.constantFrom('rw' as const, 'rw' as const, 'rw' as const, 'r' as const),
        shared: fc.oneof({ arbitrary: fc.constant(true), weight: 2 }, { arbitrary: fc.constant(false), weight: 1 }),
      });
    case 'memfdTruncate':
      return fc.record({ op: fc.constant('memfdTruncate' as const), file, pages: fc.nat(maxPages) });
    case 'memfdPunch':
      return fc.record({ op: fc.constant('memfdPunch' as const), file, page, pages });
  }
}

/**
 * hugetlbfs ops: biased to file 0 and its first huge page, so that processes
 * share a file page (and its page table) and truncate or punch what others fault.
 */
export function hugetlbOpArb(kind: 'hugetlbCreate' | 'hugetlbMmap' | 'hugetlbPunch' | 'hugetlbTruncate', region: fc.Arbitrary<number>): fc.Arbitrary<Op> {
  const file = fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.nat(HUGETLB_FILES - 1), weight: 1 });
  const hpage = fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.nat(1), weight: 1 });
  const hpages = fc.integer({ min: 1, max: 2 });
  switch (kind) {
    case 'hugetlbCreate':
      return fc.record({ op: fc.constant('hugetlbCreate' as const), file, hpages });
    case 'hugetlbMmap':
      return fc.record({ op: fc.constant('hugetlbMmap' as const), region, file, hpage, hpages, prot: fc.constantFrom('rw' as const, 'rw' as const, 'rw' as const, 'r' as const) });
    case 'hugetlbPunch':
      return fc.record({ op: fc.constant('hugetlbPunch' as const), file, hpage, hpages });
    case 'hugetlbTruncate':
      return fc.record({ op: fc.constant('hugetlbTruncate' as const), file, hpages: fc.nat(2) });
  }
}
