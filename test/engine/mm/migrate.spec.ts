import assert from 'node:assert/strict';
import { valueOf } from '../../../engine/program/history.ts';
import { Replay } from '../../../engine/index.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { describeViolation, reads, runChecked } from '../../helpers/run.ts';
import { interleaving, rec } from '../../helpers/scenario.ts';

const mmap = (pages = 1): Op => ({ op: 'mmap', region: 0, pages, prot: 'rw' });
const w = (page: number, value: number, word = 0): Op => ({ op: 'write', region: 0, page, word, value });
const r = (page: number, word = 0): Op => ({ op: 'read', region: 0, page, word });
const migrate = (victim = 0): Op => ({ op: 'migrate', victim });

const seq = (p: Program) => {
  const res = runChecked(p, new Replay([]));
  assert.equal(res.violation, undefined, describeViolation(res));
  return res;
};

describe('engine/mm: migration (seed 000)', () => {
  it('moves a page to a new frame and keeps its contents and its write access', () => {
    const res = seq({ processes: [{ threads: [[mmap(), w(0, 5), w(0, 6, 1), migrate(), r(0), r(0, 1), w(0, 7), r(0)]] }] });
    assert.equal(rec(res, 'P0.T0', 3).result, 1, 'migration should succeed');
    assert.deepEqual(reads(res, 'P0.T0'), [5, 6, 7]);
  });

  it('a pinned page is not migrated, and the pin stays coherent', () => {
    const res = seq({
      processes: [{ threads: [[mmap(), w(0, 1), { op: 'pin', pin: 0, region: 0, page: 0, write: true, fast: false, longterm: true }, migrate(), w(0, 2), { op: 'pinRead', pin: 0, word: 0 }]] }],
    });
    assert.equal(rec(res, 'P0.T0', 3).result, 0);
    assert.equal(valueOf(rec(res, 'P0.T0', 5)), 2);
  });

  it('a page shared by fork migrates for both processes, which stay COW-isolated', () => {
    const res = seq({
      processes: [
        { threads: [[mmap(), w(0, 1), { op: 'fork', child: 1 }, migrate(), w(0, 2), r(0)]] },
        { threads: [[r(0), w(0, 3), r(0)]] },
      ],
    });
    assert.equal(rec(res, 'P0.T0', 3).result, 1);
    assert.deepEqual(reads(res, 'P0.T0'), [2]);
    assert.deepEqual(reads(res, 'P1.T0'), [1, 3]);
  });

  it('migration racing exec, fork, mremap and munmap leaves no migration entry behind', () => {
    const p: Program = {
      processes: [
        {
          threads: [
            [mmap(2), w(0, 1), w(1, 2), { op: 'fork', child: 1 }, { op: 'mremap', region: 0, pages: 3, maymove: true }, r(0), { op: 'munmap', region: 0, page: 1, pages: 1 }],
            [{ op: 'exec', region: 2, args: 2 }, { op: 'read', region: 2, page: 0, word: 0 }],
          ],
        },
        { threads: [[r(0), w(1, 3)]] },
      ],
      kthreads: [[migrate(0), migrate(1), migrate(2), migrate(3)]],
    };
    assert.throws(() => interleaving(p, () => false, 300), /no interleaving/);
  });
});
