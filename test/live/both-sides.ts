// A hand-written sequential program run on the model and on this kernel, in
// the model's order: each op's two observations side by side, by thread and
// index, for specs that check what both sides did.
import assert from 'node:assert/strict';
import type { Program } from '../../engine/program/ops.ts';
import { compareRecords, valueOf } from '../../live/compare.ts';
import { runOnKernel } from '../../live/kernel-run.ts';
import { runSequential } from '../../live/sequential.ts';

export interface Side {
  readonly result: number;
  readonly value?: number;
}

export interface BothSides {
  /** Op `index` of thread `thread` ('P0.T0'): what the model and the kernel said. */
  at(thread: string, index: number): { model: Side; kernel: Side };
}

/** Run p on both sides; asserts the run was sequential and that no observation differs. */
export function bothSides(p: Program): BothSides {
  const s = runSequential(p, 0);
  assert.ok(s.sequential, 'the model ran the program one op at a time');
  assert.equal(s.violation, undefined);
  const k = runOnKernel(p, s.order);
  assert.equal(k.length, s.records.length, 'the kernel answered every op');
  assert.deepEqual(compareRecords(s.records, k), [], 'the model and the kernel agree on every op');
  return {
    at(thread, index) {
      const i = s.records.findIndex((r) => r.thread === thread && r.index === index);
      assert.ok(i >= 0, `${thread} op ${index} ran`);
      const m = s.records[i]!;
      return { model: { result: m.result, value: valueOf(m) }, kernel: { result: k[i]!.result, value: k[i]!.value } };
    },
  };
}
