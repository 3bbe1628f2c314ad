import assert from 'node:assert/strict';
import type { Program } from '../../engine/program/ops.ts';
import { runSequential } from '../../live/sequential.ts';

const EBUSY = -16;

/**
 * The kernel executor runs one op at a time, so a run the model judges
 * sequential must give what that order gives. Two threads take reference
 * handle 0: T0's get (after its mmap and a read) on an address below the region, T1's
 * on a good page. In the kernel, whichever get comes second finds the
 * handle used and returns -EBUSY before it touches GUP (live/c/vmsplice.c).
 * Before `get` was a claim in live/sequential.ts, T0 looked the handle up,
 * lost the CPU to T1's whole get, and then failed in GUP with -EFAULT: 45
 * of these 300 seeds.
 */
describe('live/sequential: a get claims its reference handle before another thread runs', () => {
  const p: Program = {
    processes: [
      {
        threads: [
          [
            { op: 'mmap', region: 0, pages: 2, prot: 'rw' },
            { op: 'read', region: 0, page: 1, word: 0 },
            { op: 'get', ref: 0, region: 0, page: -1, fast: true },
          ],
          [{ op: 'get', ref: 0, region: 0, page: 0, fast: true }],
        ],
      },
    ],
  };

  it('in every sequential run of 300 seeds, a get after a successful one returns -EBUSY', () => {
    const orders = new Set<string>();
    for (let seed = 0; seed < 300; seed++) {
      const run = runSequential(p, seed);
      assert.equal(run.violation, undefined, `seed ${seed}`);
      if (!run.sequential) continue;
      const gets = run.records.filter((r) => r.kind === 'get');
      assert.equal(gets.length, 2, `seed ${seed}`);
      const [first, second] = gets as [(typeof gets)[0], (typeof gets)[0]];
      orders.add(`${first.thread}:${first.result} ${second.thread}:${second.result}`);
      if (first.result === 0) assert.equal(second.result, EBUSY, `seed ${seed}: ${second.thread}'s get came second`);
    }
    // T1's get first (T0's then -EBUSY) and T0's first (-EFAULT; T1's then succeeds) both occur.
    assert.ok(orders.has('P0.T1:0 P0.T0:-16'), [...orders].join(', '));
    assert.ok(orders.has('P0.T0:-14 P0.T1:0'), [...orders].join(', '));
  });
});
