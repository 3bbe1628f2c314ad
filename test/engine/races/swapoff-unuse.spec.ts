// Swapoff's unuse_mm() against a munmap of the VMA it is walking (the witness
// of known-bad patch 013; the patched model is run in
// test/corpus/known-bad-013-witness.spec.ts, outside the Stryker suite).
import assert from 'node:assert/strict';
import * as engine from '../../../engine/index.ts';
import * as props from '../../../properties/index.ts';
import * as runner from '../../../runner/index.ts';
import { parkUnuse } from './unuse-witness.ts';

describe('engine/races/swapoff-unuse: swapoff parked in unuse_vma against a munmap of that VMA (unuse_mm, mmap_read_lock)', () => {
  it('unuse holds mmap_read_lock: the munmap waits for it, swapoff brings the page in, and every property holds', () => {
    const { r, parked, munmapAtResume } = parkUnuse(engine, runner, props);
    assert.ok(parked, 'swapoff reached its park point');
    assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
    assert.match(munmapAtResume ?? '', /^blocked on mmap_lock/, 'the munmap was waiting for the mmap_lock when swapoff resumed');
    const munmap = r.history.records.find((x) => x.op.op === 'munmap')!;
    const swapoff = r.history.records.find((x) => x.op.op === 'swapoff')!;
    assert.deepEqual([munmap.result, swapoff.result], [0, 0]);
  });
});
