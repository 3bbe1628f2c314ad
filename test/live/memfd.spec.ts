import assert from 'node:assert/strict';
import type { Op, Program } from '../../engine/program/ops.ts';
import { kernelUnavailable } from '../../live/build.ts';
import { bothSides } from './both-sides.ts';

const why = kernelUnavailable();
const EFAULT = -14;
const EBADF = -9;

const one = (ops: Op[]): Program => ({ processes: [{ threads: [ops] }] });
const file: Op[] = [
  { op: 'memfdCreate', file: 0, pages: 3 },
  { op: 'memfdMmap', region: 0, file: 0, page: 0, pages: 3, prot: 'rw', shared: true },
  { op: 'memfdMmap', region: 1, file: 0, page: 0, pages: 3, prot: 'rw', shared: false },
];

/** memfd ops on the kernel (live/c/memfd.c) against the model's shmem. */
describe(`live: memfd (shmem)${why ? ` (skipped: ${why})` : ''}`, function () {
  this.timeout(60_000);
  before(function () {
    if (why) this.skip();
  });

  it('a MAP_PRIVATE mapping sees the file change under it until it writes', () => {
    const b = bothSides(
      one([
        ...file,
        { op: 'write', region: 0, page: 0, word: 0, value: 5 },
        { op: 'read', region: 1, page: 0, word: 0 },
        { op: 'write', region: 0, page: 0, word: 0, value: 6 },
        { op: 'read', region: 1, page: 0, word: 0 },
        { op: 'write', region: 1, page: 0, word: 1, value: 9 },
        { op: 'write', region: 0, page: 0, word: 0, value: 10 },
        { op: 'read', region: 1, page: 0, word: 0 },
        { op: 'read', region: 0, page: 0, word: 1 },
      ]),
    );
    for (const side of ['model', 'kernel'] as const) {
      assert.equal(b.at('P0.T0', 4)[side].value, 5, `${side}: the private view reads the file`);
      assert.equal(b.at('P0.T0', 6)[side].value, 6, `${side}: and its change`);
      assert.equal(b.at('P0.T0', 9)[side].value, 6, `${side}: after its own write, its copy`);
      assert.equal(b.at('P0.T0', 10)[side].value, 0, `${side}: the private write stays out of the file`);
    }
  });

  it('a punched hole reads back zero; truncate makes the pages past the end SIGBUS (EFAULT) in both mappings', () => {
    const b = bothSides(
      one([
        ...file,
        { op: 'write', region: 0, page: 1, word: 0, value: 11 },
        { op: 'write', region: 0, page: 2, word: 0, value: 12 },
        { op: 'memfdPunch', file: 0, page: 1, pages: 1 },
        { op: 'read', region: 0, page: 1, word: 0 },
        { op: 'read', region: 1, page: 1, word: 0 },
        { op: 'memfdTruncate', file: 0, pages: 2 },
        { op: 'read', region: 0, page: 2, word: 0 },
        { op: 'read', region: 1, page: 2, word: 0 },
        { op: 'write', region: 0, page: 2, word: 0, value: 13 },
        { op: 'memfdTruncate', file: 0, pages: 3 },
        { op: 'read', region: 0, page: 2, word: 0 },
        { op: 'memfdTruncate', file: 1, pages: 1 },
      ]),
    );
    for (const side of ['model', 'kernel'] as const) {
      assert.equal(b.at('P0.T0', 5)[side].result, 0, `${side}: the punch`);
      assert.equal(b.at('P0.T0', 6)[side].value, 0, `${side}: the hole reads zero`);
      assert.equal(b.at('P0.T0', 7)[side].value, 0, `${side}: through the private mapping too`);
      for (const i of [9, 10, 11]) assert.equal(b.at('P0.T0', i)[side].result, EFAULT, `${side}: op ${i} past the end`);
      assert.equal(b.at('P0.T0', 13)[side].value, 0, `${side}: the file grown again is zero there`);
      assert.equal(b.at('P0.T0', 14)[side].result, EBADF, `${side}: a file never created`);
    }
  });
});
