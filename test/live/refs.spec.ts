import assert from 'node:assert/strict';
import type { Op, Program } from '../../engine/program/ops.ts';
import { kernelUnavailable } from '../../live/build.ts';
import { bothSides } from './both-sides.ts';

const why = kernelUnavailable();
const EINVAL = -22;

const one = (ops: Op[], child?: Op[]): Program => ({ processes: [{ threads: [ops] }, ...(child ? [{ threads: [child] }] : [])] });

/** FOLL_GET references on the kernel (vmsplice into a pipe, live/c/vmsplice.c) against the model's get, getRead and put. */
describe(`live: FOLL_GET references (vmsplice)${why ? ` (skipped: ${why})` : ''}`, function () {
  this.timeout(60_000);
  before(function () {
    if (why) this.skip();
  });

  it('after fork, the process\'s own write copies the page: its reference goes stale, and reads of it do not consume it', () => {
    const b = bothSides(
      one(
        [
          { op: 'mmap', region: 0, pages: 1, prot: 'rw' },
          { op: 'write', region: 0, page: 0, word: 1, value: 7 },
          { op: 'get', ref: 0, region: 0, page: 0, fast: true },
          { op: 'fork', child: 1 },
          { op: 'write', region: 0, page: 0, word: 1, value: 8 },
          { op: 'getRead', ref: 0, word: 1 },
          { op: 'getRead', ref: 0, word: 1 },
          { op: 'read', region: 0, page: 0, word: 1 },
          { op: 'put', ref: 0 },
          { op: 'getRead', ref: 0, word: 1 },
        ],
        [{ op: 'read', region: 0, page: 0, word: 1 }],
      ),
    );
    for (const side of ['model', 'kernel'] as const) {
      assert.equal(b.at('P0.T0', 2)[side].result, 0, `${side}: the get`);
      assert.equal(b.at('P0.T0', 5)[side].value, 7, `${side}: the reference still names the old page`);
      assert.equal(b.at('P0.T0', 6)[side].value, 7, `${side}: a second getRead reads it again`);
      assert.equal(b.at('P0.T0', 7)[side].value, 8, `${side}: the process reads its copy`);
      assert.equal(b.at('P1.T0', 0)[side].value, 7, `${side}: the child keeps the old page`);
      assert.equal(b.at('P0.T0', 9)[side].result, EINVAL, `${side}: no reference after put`);
    }
  });

  it('without fork the reference sees later writes; after MADV_DONTNEED it keeps the old page while the mapping reads zero', () => {
    const b = bothSides(
      one([
        { op: 'mmap', region: 0, pages: 1, prot: 'rw' },
        { op: 'write', region: 0, page: 0, word: 0, value: 3 },
        { op: 'get', ref: 1, region: 0, page: 0, fast: false },
        { op: 'write', region: 0, page: 0, word: 0, value: 4 },
        { op: 'getRead', ref: 1, word: 0 },
        { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' },
        { op: 'read', region: 0, page: 0, word: 0 },
        { op: 'getRead', ref: 1, word: 0 },
        { op: 'put', ref: 1 },
      ]),
    );
    for (const side of ['model', 'kernel'] as const) {
      assert.equal(b.at('P0.T0', 4)[side].value, 4, `${side}: the same page, written through the mapping`);
      assert.equal(b.at('P0.T0', 6)[side].value, 0, `${side}: DONTNEED zero-fills the mapping`);
      assert.equal(b.at('P0.T0', 7)[side].value, 4, `${side}: the reference keeps the page`);
      assert.equal(b.at('P0.T0', 8)[side].result, 0);
    }
  });

  it('a reference taken after a read fault names the shared zero page: the write that follows COWs away from it', () => {
    const b = bothSides({
      zeroPage: true,
      processes: [
        {
          threads: [
            [
              { op: 'mmap', region: 0, pages: 1, prot: 'rw' },
              { op: 'read', region: 0, page: 0, word: 0 },
              { op: 'get', ref: 0, region: 0, page: 0, fast: true },
              { op: 'write', region: 0, page: 0, word: 0, value: 3 },
              { op: 'getRead', ref: 0, word: 0 },
              { op: 'read', region: 0, page: 0, word: 0 },
            ],
          ],
        },
      ],
    });
    for (const side of ['model', 'kernel'] as const) {
      assert.equal(b.at('P0.T0', 2)[side].result, 0, `${side}: the get`);
      assert.equal(b.at('P0.T0', 4)[side].value, 0, `${side}: the reference stays on the zero page`);
      assert.equal(b.at('P0.T0', 5)[side].value, 3, `${side}: the mapping has its own page`);
    }
  });
});
