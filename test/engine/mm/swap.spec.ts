import assert from 'node:assert/strict';
import { valueOf } from '../../../engine/program/history.ts';
import { Replay } from '../../../engine/index.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { describeViolation, reads, runChecked } from '../../helpers/run.ts';
import { interleaving, rec } from '../../helpers/scenario.ts';

const swapon: Op = { op: 'swapon', dev: 0, slots: 4 };
const mmap = (pages = 2): Op => ({ op: 'mmap', region: 0, pages, prot: 'rw' });
const w = (page: number, value: number, word = 0): Op => ({ op: 'write', region: 0, page, word, value });
const r = (page: number, word = 0): Op => ({ op: 'read', region: 0, page, word });
const reclaim = (victim = 0): Op => ({ op: 'reclaim', victim });

/** Sequential: each task runs to completion, lowest id first. */
const seq = (p: Program) => {
  const res = runChecked(p, new Replay([]));
  assert.equal(res.violation, undefined, describeViolation(res));
  return res;
};

describe('engine/mm: swap (seed 004)', () => {
  it('reclaim swaps a page out and a fault brings its contents back', () => {
    const res = seq({ processes: [{ threads: [[swapon, mmap(1), w(0, 7), w(0, 8, 1), reclaim(), r(0), r(0, 1)]] }] });
    assert.equal(rec(res, 'P0.T0', 4).result, 1, 'reclaim should have freed the page');
    assert.deepEqual(reads(res, 'P0.T0'), [7, 8]);
  });

  it('without a swap device reclaim cannot free an anon page', () => {
    const res = seq({ processes: [{ threads: [[mmap(1), w(0, 7), reclaim(), r(0)]] }] });
    assert.equal(rec(res, 'P0.T0', 2).result, 0);
    assert.deepEqual(reads(res, 'P0.T0'), [7]);
  });

  it('fork shares a swapped-out page by its swap entry; each side then has its own copy', () => {
    const res = seq({
      processes: [
        { threads: [[swapon, mmap(1), w(0, 1), reclaim(), { op: 'fork', child: 1 }, w(0, 2), r(0)]] },
        { threads: [[r(0), w(0, 3), r(0)]] },
      ],
    });
    assert.deepEqual(reads(res, 'P0.T0'), [2]);
    assert.deepEqual(reads(res, 'P1.T0'), [1, 3]);
  });

  it('swapoff brings every page back, and the device can go', () => {
    const res = seq({ processes: [{ threads: [[swapon, mmap(2), w(0, 4), w(1, 5), reclaim(0), reclaim(0), { op: 'swapoff', dev: 0 }, r(0), r(1)]] }] });
    assert.equal(rec(res, 'P0.T0', 6).result, 0);
    assert.deepEqual(reads(res, 'P0.T0'), [4, 5]);
  });

  it('MADV_PAGEOUT swaps the range out and WILLNEED reads it back into the swap cache', () => {
    const res = seq({
      processes: [
        {
          threads: [
            [
              swapon,
              mmap(2),
              w(0, 4),
              w(1, 5),
              { op: 'madvise', region: 0, page: 0, pages: 2, advice: 'PAGEOUT' },
              { op: 'madvise', region: 0, page: 0, pages: 2, advice: 'WILLNEED' },
              r(1),
              r(0),
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(res, 'P0.T0'), [5, 4]);
  });

  it('a pinned page is not swapped out: reclaim fails and the pin stays coherent', () => {
    const res = seq({
      processes: [{ threads: [[swapon, mmap(1), w(0, 1), { op: 'pin', pin: 0, region: 0, page: 0, write: true, fast: false, longterm: true }, reclaim(), w(0, 2), { op: 'pinRead', pin: 0, word: 0 }]] }],
    });
    assert.equal(rec(res, 'P0.T0', 4).result, 0);
    assert.equal(valueOf(rec(res, 'P0.T0', 6)), 2);
  });

  it('swapoff races fork, exit, faults and munmap without a violation', () => {
    const p: Program = {
      processes: [
        {
          threads: [
            [swapon, mmap(3), w(0, 1), w(1, 2), w(2, 3), reclaim(0), reclaim(1), { op: 'fork', child: 1 }, r(0), { op: 'munmap', region: 0, page: 1, pages: 1 }],
            [reclaim(2), { op: 'swapoff', dev: 0 }, r(2)],
          ],
        },
        { threads: [[r(1), w(2, 9), { op: 'exit' }]] },
      ],
      kthreads: [[reclaim(0), reclaim(3), reclaim(1)]],
    };
    // Every interleaving tried is checked by every property; none may fail.
    assert.throws(() => interleaving(p, () => false, 300), /no interleaving/);
  });
});
