// Swapoff against MADV_WILLNEED's swapin readahead parked at its first
// preemption point (the witness of known-bad patch 014; the patched model is
// run in test/corpus/known-bad-014-witness.spec.ts, outside the Stryker suite).
import assert from 'node:assert/strict';
import * as engine from '../../../engine/index.ts';
import * as props from '../../../properties/index.ts';
import * as runner from '../../../runner/index.ts';
import { parkReader } from './readahead-witness.ts';

describe('engine/races/swap-readahead: swapoff against a parked swapin readahead (read_swap_cache_async, get_swap_device)', () => {
  it('the reader parked after get_swap_device() holds the device: swapoff waits for it (si->comp) before freeing the swap_map, and every property holds', () => {
    const { r, parked } = parkReader(engine, runner, props);
    assert.ok(parked, 'the reader reached its park point');
    assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
    const willneed = r.history.records.find((x) => x.op.op === 'madvise' && x.op.advice === 'WILLNEED')!;
    const swapoff = r.history.records.find((x) => x.op.op === 'swapoff')!;
    assert.deepEqual([willneed.result, swapoff.result], [0, 0]);
    assert.ok(swapoff.end > willneed.end, 'swapoff ended only after the reader let the device go');
  });
});
