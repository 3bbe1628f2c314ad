import assert from 'node:assert/strict';
import type { Program } from '../../engine/program/ops.ts';
import { kernelUnavailable } from '../../live/build.ts';
import { runOnKernel } from '../../live/kernel-run.ts';
import { runSequential } from '../../live/sequential.ts';
import { valueOf } from '../../live/compare.ts';

const why = kernelUnavailable();

/** The C executor on this kernel: one sequential program, each op's record checked. */
describe(`live: the kernel executor${why ? ` (skipped: ${why})` : ''}`, function () {
  this.timeout(60_000);
  before(function () {
    if (why) this.skip();
  });

  const program: Program = {
    processes: [
      {
        threads: [
          [
            { op: 'mmap', region: 0, pages: 2, prot: 'rw' },
            { op: 'write', region: 0, page: 1, word: 1, value: 7 },
            { op: 'fork', child: 1 },
            { op: 'write', region: 0, page: 1, word: 1, value: 8 },
            { op: 'pin', pin: 0, region: 0, page: 0, write: true, fast: true, longterm: true },
            { op: 'pinWrite', pin: 0, word: 0, value: 9 },
            { op: 'read', region: 0, page: 0, word: 0 },
            { op: 'unpin', pin: 0 },
            { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'r' },
            { op: 'write', region: 0, page: 0, word: 0, value: 10 },
          ],
        ],
      },
      { threads: [[{ op: 'read', region: 0, page: 1, word: 1 }]] },
    ],
  };

  it('runs in the model\'s order and reports what each op did: values, COW after fork, a device write, EFAULT on a read-only page', () => {
    const s = runSequential(program, 0);
    assert.ok(s.sequential);
    const k = runOnKernel(program, s.order);
    assert.equal(k.length, 11);
    const byOp = (i: number) => k[s.records.findIndex((r) => r.thread === 'P0.T0' && r.index === i)]!;
    assert.equal(byOp(0).result, s.records[0]!.result, 'mmap lands where the model put it');
    assert.equal(byOp(2).result, 1, 'fork returns the child');
    const child = k[s.records.findIndex((r) => r.thread === 'P1.T0')]!;
    assert.equal(child.value, valueOf(s.records.find((r) => r.thread === 'P1.T0')!), 'the child reads what the model says');
    assert.equal(byOp(6).value, 9, 'the read sees the device write through the io_uring fixed buffer');
    assert.equal(byOp(7).result, 0);
    assert.equal(byOp(9).result, -14, 'a store to a read-only page is EFAULT (SIGSEGV)');
  });
});
