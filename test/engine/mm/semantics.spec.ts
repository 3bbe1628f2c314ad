import assert from 'node:assert/strict';
import { Replay } from '../../../engine/index.ts';
import { execArgv } from '../../../engine/program/abi.ts';
import type { Program } from '../../../engine/program/ops.ts';
import { describeViolation, reads, runChecked, single } from '../../helpers/run.ts';

/** Sequential: the default rule runs each task to completion, lowest id first. */
const seq = (p: Program) => {
  const r = runChecked(p, new Replay([]));
  assert.equal(r.violation, undefined, describeViolation(r));
  return r;
};

describe('engine/mm: sequential semantics', () => {
  it('COW isolates parent and child in both directions', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              { op: 'mmap', region: 0, pages: 2, prot: 'rw' },
              { op: 'write', region: 0, page: 0, word: 0, value: 10 },
              { op: 'fork', child: 1 },
              { op: 'write', region: 0, page: 0, word: 0, value: 11 },
              { op: 'read', region: 0, page: 0, word: 0 },
            ],
          ],
        },
        { threads: [[{ op: 'read', region: 0, page: 0, word: 0 }, { op: 'write', region: 0, page: 0, word: 0, value: 20 }, { op: 'read', region: 0, page: 0, word: 0 }]] },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), [11]);
    assert.deepEqual(reads(r, 'P1.T0'), [10, 20]);
  });

  it('COW after the parent wrote first: the child still sees the fork-time value', () => {
    // Child runs after the parent finished (default rule): the parent's write happened after fork.
    const r = seq({
      processes: [
        { threads: [[{ op: 'mmap', region: 0, pages: 1, prot: 'rw' }, { op: 'write', region: 0, page: 0, word: 0, value: 1 }, { op: 'fork', child: 1 }, { op: 'write', region: 0, page: 0, word: 0, value: 2 }]] },
        { threads: [[{ op: 'read', region: 0, page: 0, word: 0 }]] },
      ],
    });
    assert.deepEqual(reads(r, 'P1.T0'), [1]);
  });

  it('DONTNEED reads back zero', () => {
    const r = seq(
      single(
        { op: 'mmap', region: 0, pages: 3, prot: 'rw' },
        { op: 'write', region: 0, page: 1, word: 0, value: 5 },
        { op: 'madvise', region: 0, page: 0, pages: 3, advice: 'DONTNEED' },
        { op: 'read', region: 0, page: 1, word: 0 },
      ),
    );
    assert.deepEqual(reads(r, 'P0.T0'), [0]);
  });

  it("WIPEONFORK's child reads zero, the parent keeps its data", () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              { op: 'mmap', region: 0, pages: 2, prot: 'rw' },
              { op: 'write', region: 0, page: 1, word: 0, value: 7 },
              { op: 'madvise', region: 0, page: 0, pages: 2, advice: 'WIPEONFORK' },
              { op: 'fork', child: 1 },
              { op: 'read', region: 0, page: 1, word: 0 },
            ],
          ],
        },
        { threads: [[{ op: 'read', region: 0, page: 1, word: 0 }]] },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), [7]);
    assert.deepEqual(reads(r, 'P1.T0'), [0]);
  });

  it("DONTFORK's child has no mapping there", () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              { op: 'mmap', region: 0, pages: 2, prot: 'rw' },
              { op: 'write', region: 0, page: 0, word: 0, value: 7 },
              { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTFORK' },
              { op: 'fork', child: 1 },
            ],
          ],
        },
        { threads: [[{ op: 'read', region: 0, page: 0, word: 0 }, { op: 'read', region: 0, page: 1, word: 0 }]] },
      ],
    });
    assert.deepEqual(reads(r, 'P1.T0'), ['err-14', 0]);
  });

  it('mremap keeps contents when it moves, grows in place, and with MREMAP_FIXED', () => {
    const r = seq(
      single(
        { op: 'mmap', region: 0, pages: 2, prot: 'rw' },
        { op: 'mmap', region: 1, pages: 1, prot: 'rw' }, // sits just below r0: r0 cannot grow down, r1 cannot grow up
        { op: 'write', region: 0, page: 0, word: 0, value: 1 },
        { op: 'write', region: 0, page: 1, word: 0, value: 2 },
        { op: 'write', region: 1, page: 0, word: 0, value: 3 },
        { op: 'mremap', region: 1, pages: 3, maymove: true }, // must move: r0 is in the way
        { op: 'read', region: 1, page: 0, word: 0 },
        { op: 'read', region: 1, page: 2, word: 0 },
        { op: 'mmap', region: 2, pages: 4, prot: 'rw' },
        { op: 'mremap', region: 0, pages: 2, maymove: true, fixedTo: 2 },
        { op: 'read', region: 0, page: 0, word: 0 },
        { op: 'read', region: 0, page: 1, word: 0 },
      ),
    );
    const recs = r.history.records;
    const moved = recs.find((x) => x.index === 5)!;
    assert.ok(moved.kind === 'mremap');
    assert.notEqual(moved.newAddr, moved.addr, 'r1 should have moved');
    assert.deepEqual(reads(r, 'P0.T0'), [3, 0, 1, 2]);
  });

  it("exec's arguments are readable at their new place", () => {
    const r = seq(single({ op: 'mmap', region: 0, pages: 1, prot: 'rw' }, { op: 'exec', region: 1, args: 3 }, { op: 'read', region: 1, page: 0, word: 0 }, { op: 'read', region: 1, page: 1, word: 0 }, { op: 'read', region: 1, page: 2, word: 0 }, { op: 'read', region: 0, page: 0, word: 0 }));
    // The stack was filled from the top down: the highest page holds argument 0.
    assert.deepEqual(reads(r, 'P0.T0'), [...execArgv(3).reverse(), 'err-22']);
  });

  it('mprotect read-only makes writes fault, and back to rw lets them in', () => {
    const r = seq(
      single(
        { op: 'mmap', region: 0, pages: 2, prot: 'rw' },
        { op: 'write', region: 0, page: 0, word: 0, value: 4 },
        { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'r' },
        { op: 'write', region: 0, page: 0, word: 0, value: 5 },
        { op: 'read', region: 0, page: 0, word: 0 },
        { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'rw' },
        { op: 'write', region: 0, page: 0, word: 0, value: 6 },
        { op: 'read', region: 0, page: 0, word: 0 },
      ),
    );
    const writes = r.history.records.filter((x) => x.op.op === 'write').map((x) => x.result);
    assert.deepEqual(writes, [0, -14, 0]);
    assert.deepEqual(reads(r, 'P0.T0'), [4, 6]);
  });

  it('running out of memory is ENOMEM to the program, not a violation', () => {
    const ops: Program['processes'][0]['threads'][0][number][] = [{ op: 'mmap', region: 0, pages: 8, prot: 'rw' }];
    for (let i = 0; i < 8; i++) ops.push({ op: 'write', region: 0, page: i, word: 0, value: i + 1 });
    const r = seq({ processes: [{ threads: [ops] }], frames: 5 });
    const results = r.history.records.filter((x) => x.op.op === 'write').map((x) => x.result);
    assert.deepEqual(results, [0, 0, 0, 0, 0, -12, -12, -12]);
  });
});
