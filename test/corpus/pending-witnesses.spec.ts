// The pending patches (mutation/patches/pending/) on their hand-written
// witnesses (test/engine/races/pending-witnesses.ts): each patched model fails
// with the property its Expect: names, and the schedule it ran replays clean
// on the clean model.
import assert from 'node:assert/strict';
import { properties } from '../../properties/index.ts';
import { replayCase } from '../../runner/index.ts';
import { witnesses } from '../engine/races/pending-witnesses.ts';
import { steer } from '../engine/races/steer.ts';
import { withPatchedModel } from './patched-model.ts';

describe('corpus/known-bad: the pending patches on their witnesses', function () {
  this.timeout(120_000);
  for (const w of witnesses) {
    it(`${w.patch}: ${w.expect}; the same schedule is clean without the patch`, async () => {
      await withPatchedModel(w.patch, ({ engine, runner, props }) => {
        const { strategy, log } = steer(engine, w.parks());
        const r = runner.runCase(w.program, strategy, { properties: props.properties });
        assert.ok(log.reached.every(Boolean), `parks reached: ${JSON.stringify(log.reached)}`);
        assert.equal(r.violation?.property, w.expect, r.violation ? `${r.violation.property}: ${r.violation.message}` : 'no violation');
        const clean = replayCase(w.program, r.schedule, { properties });
        assert.equal(clean.violation, undefined, clean.violation && `${clean.violation.property}: ${clean.violation.message}`);
      });
    });
  }
});
