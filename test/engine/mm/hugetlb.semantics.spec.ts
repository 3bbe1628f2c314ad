import assert from 'node:assert/strict';
import { reads } from '../../helpers/run.ts';
import { seq, map, rd, wr } from './hugetlb.setup.ts';

describe('engine/mm/hugetlb: sequential semantics of shared hugetlbfs mappings', () => {
  it("a fork's child and its parent see each other's writes to the shared file pages", () => {
    const r = seq({
      processes: [
        { threads: [[map(2), wr(0, 1), { op: 'fork', child: 1 }, wr(0, 2, 1)]] },
        { threads: [[rd(0), rd(0, 1), wr(1, 3), { op: 'fork', child: 2 }]] },
        { threads: [[rd(1), rd(0, 1)]] },
      ],
    });
    // The child runs after the parent finished: it reads the parent's write made after the fork.
    assert.deepEqual(reads(r, 'P1.T0'), [1, 2]);
    assert.deepEqual(reads(r, 'P2.T0'), [3, 2]);
  });

  it('data written through one mapping outlives munmap and is read by a process that maps the file later', () => {
    const r = seq({
      processes: [
        { threads: [[{ op: 'fork', child: 1 }, map(1), wr(0, 5), { op: 'munmap', region: 0, page: 0, pages: 1 }, rd(0)]] },
        { threads: [[map(1), rd(0), rd(0, 1)]] },
      ],
    });
    // The region handle is gone with the mapping.
    assert.deepEqual(reads(r, 'P0.T0'), ['err-22']);
    assert.deepEqual(reads(r, 'P1.T0'), [5, 0]);
  });

  it('a hole punch reads back zero in every process; the other huge pages keep their data', () => {
    const r = seq({
      processes: [
        { threads: [[map(2), wr(0, 1), wr(1, 2), { op: 'fork', child: 1 }, { op: 'hugetlbPunch', file: 0, hpage: 0, hpages: 1 }, rd(0), rd(1)]] },
        { threads: [[rd(0), rd(1), wr(0, 3), rd(0)]] },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), [0, 2]);
    assert.deepEqual(reads(r, 'P1.T0'), [0, 2, 3]);
  });

  it('truncate: a page beyond the end of the file cannot be faulted; grown again, it reads zero', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              map(2),
              wr(1, 7),
              { op: 'hugetlbTruncate', file: 0, hpages: 1 },
              rd(1),
              rd(0),
              { op: 'hugetlbTruncate', file: 0, hpages: 2 },
              rd(1),
              { op: 'hugetlbTruncate', file: 0, hpages: 5 },
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), ['err-14', 0, 0]);
    assert.equal(r.history.records.at(-1)!.result, -22, 'a file may not grow past the pool (no reservations)');
  });

  it('a read-only mapping of an empty file cannot fault; a writable one extends it; create refuses an existing file', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              { op: 'hugetlbMmap', region: 1, file: 1, hpage: 0, hpages: 1, prot: 'r' },
              rd(0, 0, 1),
              { op: 'hugetlbCreate', file: 0, hpages: 1 },
              { op: 'hugetlbCreate', file: 0, hpages: 1 },
              { op: 'hugetlbMmap', region: 0, file: 0, hpage: 1, hpages: 1, prot: 'rw' },
              rd(0),
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), ['err-14', 0]);
    assert.deepEqual(
      r.history.records.filter((x) => x.op.op === 'hugetlbCreate').map((x) => x.result),
      [0, -17],
    );
  });

  it('mprotect and munmap split a hugetlb mapping at huge page boundaries', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              map(2),
              wr(0, 1),
              wr(1, 2),
              { op: 'mprotect', region: 0, page: 1, pages: 1, prot: 'r' },
              wr(1, 3),
              rd(1),
              { op: 'mprotect', region: 0, page: 1, pages: 1, prot: 'rw' },
              wr(1, 4),
              { op: 'munmap', region: 0, page: 0, pages: 1 },
              rd(1),
              rd(0),
            ],
          ],
        },
      ],
    });
    assert.deepEqual(
      r.history.records.filter((x) => x.op.op === 'write').map((x) => x.result),
      [0, 0, -14, 0],
    );
    assert.deepEqual(reads(r, 'P0.T0'), [2, 4, 'err-14']);
  });

  it('DONTNEED zaps a hugetlb mapping but the file keeps the data; WIPEONFORK is refused', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              map(1),
              wr(0, 9),
              { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' },
              rd(0),
              { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'WIPEONFORK' },
              { op: 'mremap', region: 0, pages: 32, maymove: true },
              { op: 'pin', pin: 0, region: 0, page: 0, write: false, fast: true, longterm: false },
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), [9]);
    assert.deepEqual(
      r.history.records.slice(4).map((x) => x.result),
      [-22, -22, -14],
      'no WIPEONFORK, mremap or GUP of hugetlb VMAs in the model',
    );
  });
});
