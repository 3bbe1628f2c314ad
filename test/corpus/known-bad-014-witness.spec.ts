// Known-bad patch 014 on its hand-written witness (test/engine/races/readahead-witness.ts):
// one switch, and swapoff tears the device down (swap_map, the swap cache's address space) under the unpinned reader.
import assert from 'node:assert/strict';
import { properties } from '../../properties/index.ts';
import { replayCase } from '../../runner/index.ts';
import { parkReader, readaheadWitness } from '../engine/races/readahead-witness.ts';
import { withPatchedModel } from './patched-model.ts';

describe('corpus/known-bad: 014 (readahead without get_swap_device) on its witness', function () {
  this.timeout(60_000);

  it('with 014, swapoff frees the swap_map under the parked WILLNEED reader (one switch): an oops; the clean model passes the same program and schedule', async () => {
    await withPatchedModel('014-readahead-without-get-swap-device.patch', ({ engine, runner, props }) => {
      const { r, parked } = parkReader(engine, runner, props);
      assert.ok(parked, 'the reader reached its park point');
      assert.equal(r.violation?.property, 'kernel-bug', r.violation?.message ?? 'no violation');
      assert.equal(r.violation.task, 'P0.T1');
      // The first thing the unpinned reader touches is the swap cache's address space, gone with the swap_map.
      assert.match(r.violation.message, /oops: TypeError: .*reading 'i_pages'/);
      assert.equal(r.history.records.find((x) => x.op.op === 'swapoff')?.result, 0, 'swapoff finished while the reader was parked');
      assert.equal(r.schedule.length, 1, `one switch: ${JSON.stringify(r.schedule)}`);
      // The recorded switch replays to the same oops, and the clean model passes it.
      const again = runner.replayCase(readaheadWitness, r.schedule, { properties: props.properties });
      assert.equal(again.violation?.message, r.violation.message);
      const clean = replayCase(readaheadWitness, r.schedule, { properties });
      assert.equal(clean.violation, undefined, clean.violation && `${clean.violation.property}: ${clean.violation.message}`);
    });
  });
});
