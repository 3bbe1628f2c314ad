import assert from 'node:assert/strict';
import type { Op } from '../../engine/program/ops.ts';
import { pastHugetlbEnd } from '../../live/hugetlb-reach.ts';
import { namesFileRegion } from '../../live/file-regions.ts';
import { runSequential } from '../../live/sequential.ts';

/** The model's records of a one-thread program, each with the flag `f` gives it, as 'op:flag'. */
function flags(ops: Op[], f: typeof pastHugetlbEnd): string[] {
  const s = runSequential({ processes: [{ threads: [ops] }] }, 0);
  const got = f(s.records);
  return s.records.map((r, i) => `${r.op.op}:${got[i] ? 1 : 0}`);
}

describe('live: where the model\'s layout and the kernel\'s differ', () => {
  it('past a hugetlb end, and on the memfd region that an op past the end unmapped in the model', () => {
    assert.deepEqual(
      flags(
        [
          { op: 'memfdCreate', file: 0, pages: 3 },
          { op: 'memfdMmap', region: 1, file: 0, page: 0, pages: 3, prot: 'rw', shared: true },
          { op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 2, prot: 'rw' },
          { op: 'read', region: 0, page: 1, word: 0 },
          { op: 'munmap', region: 0, page: 2, pages: 1 },
          { op: 'read', region: 1, page: 2, word: 0 },
        ],
        pastHugetlbEnd,
      ),
      ['memfdCreate:0', 'memfdMmap:0', 'hugetlbMmap:0', 'read:0', 'munmap:1', 'read:1'],
    );
  });

  it('a base-page region that runs into the hugetlb pages of a mapping whose handle was reused', () => {
    assert.deepEqual(
      flags(
        [
          { op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 2, prot: 'rw' },
          { op: 'mmap', region: 0, pages: 2, prot: 'r' },
          { op: 'read', region: 0, page: 1, word: 0 },
          { op: 'write', region: 0, page: 2, word: 1, value: 2 },
        ],
        pastHugetlbEnd,
      ),
      ['hugetlbMmap:0', 'mmap:0', 'read:0', 'write:1'],
    );
  });

  it('names memfd and shared anonymous regions as file regions, private anonymous ones not', () => {
    assert.deepEqual(
      flags(
        [
          { op: 'mmap', region: 0, pages: 2, prot: 'rw' },
          { op: 'mremap', region: 0, pages: 3, maymove: true },
          { op: 'mmap', region: 0, pages: 2, prot: 'rw', shared: true },
          { op: 'mremap', region: 0, pages: 3, maymove: true },
          { op: 'memfdCreate', file: 0, pages: 3 },
          { op: 'memfdMmap', region: 1, file: 0, page: 0, pages: 3, prot: 'rw', shared: false },
          { op: 'read', region: 1, page: 0, word: 0 },
        ],
        namesFileRegion,
      ),
      ['mmap:0', 'mremap:0', 'mmap:0', 'mremap:1', 'memfdCreate:0', 'memfdMmap:0', 'read:1'],
    );
  });
});
