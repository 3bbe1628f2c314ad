// Known-bad patch 013 on its hand-written witness (test/engine/races/unuse-witness.ts):
// swapoff parked in unuse_vma() while munmap frees the VMA it holds.
import assert from 'node:assert/strict';
import { properties } from '../../properties/index.ts';
import { replayCase } from '../../runner/index.ts';
import { parkUnuse, unuseWitness } from '../engine/races/unuse-witness.ts';
import { withPatchedModel } from './patched-model.ts';

describe('corpus/known-bad: 013 (unuse_mm without mmap_lock) on its witness', function () {
  this.timeout(60_000);

  it('with 013, munmap detaches the VMA swapoff is walking and RCU frees it: a use-after-free of the VMA; the clean model passes the same program and schedule', async () => {
    await withPatchedModel('013-unuse-without-mmap-lock.patch', ({ engine, runner, props }) => {
      const { r, parked, munmapAtResume } = parkUnuse(engine, runner, props);
      assert.ok(parked, 'swapoff reached its park point');
      assert.equal(munmapAtResume, 'done', 'nothing held the munmap back');
      assert.equal(r.violation?.property, 'memory-safety', r.violation?.message ?? 'no violation');
      assert.equal(r.violation.task, 'K0');
      assert.match(r.violation.message, /use-after-free: read of vma#\d+\.vm_mm .*unuse_pmd_range.*freed at rcu_gp/);
      // The recorded switches replay to the same use-after-free, and the clean model passes them.
      const again = runner.replayCase(unuseWitness, r.schedule, { properties: props.properties });
      assert.equal(again.violation?.message, r.violation.message);
      const clean = replayCase(unuseWitness, r.schedule, { properties });
      assert.equal(clean.violation, undefined, clean.violation && `${clean.violation.property}: ${clean.violation.message}`);
    });
  });
});
