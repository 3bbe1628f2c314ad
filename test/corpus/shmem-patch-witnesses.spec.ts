// The shmem known-bad patches 055-059 on their hand-written witnesses
// (test/engine/races/shmem-patch-witnesses.ts): each patched model fails with
// the property its Expect: names, and the schedule it ran replays clean on
// the clean model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { properties } from '../../properties/index.ts';
import { replayCase } from '../../runner/index.ts';
import { shmemWitnesses } from '../engine/races/shmem-patch-witnesses.ts';
import { steer } from '../engine/races/steer.ts';
import { withPatchedModel } from './patched-model.ts';

/** The properties a patch's Expect: line names (alternatives a | b, commentary in parentheses after). */
function expected(patch: string): string[] {
  const line = readFileSync(`mutation/patches/${patch}`, 'utf8').split('\n').find((l) => l.startsWith('Expect:'))!;
  return line.slice('Expect:'.length).replace(/\(.*$/, '').split('|').map((s) => s.trim());
}

describe('corpus/known-bad: the shmem patches on their witnesses', function () {
  this.timeout(120_000);
  for (const w of shmemWitnesses) {
    it(`${w.patch}: ${w.expect}; the same schedule is clean without the patch`, async () => {
      assert.ok(expected(w.patch).includes(w.expect), `${w.expect} is among the patch's Expect: ${expected(w.patch).join(' | ')}`);
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
