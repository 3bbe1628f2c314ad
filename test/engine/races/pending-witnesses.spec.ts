// The pending patches' witnesses on the clean model: every park is reached
// (the window opens), and every property holds. The patched half is
// test/corpus/pending-witnesses.spec.ts.
import assert from 'node:assert/strict';
import * as engine from '../../../engine/index.ts';
import * as props from '../../../properties/index.ts';
import * as runner from '../../../runner/index.ts';
import { witnesses } from './pending-witnesses.ts';
import { steer } from './steer.ts';

describe('engine/races: the pending patches\' witnesses on the clean model', () => {
  for (const w of witnesses) {
    it(`${w.patch.replace(/^pending\//, '').replace(/\.patch$/, '')}: each park is reached and every property holds`, () => {
      const { strategy, log } = steer(engine, w.parks());
      const r = runner.runCase(w.program, strategy, { properties: props.properties });
      assert.deepEqual(log.reached, w.parks().map((_, i) => !w.cleanSkips?.includes(i)), 'the parks reached');
      assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
      assert.ok(r.history.records.every((x) => x.result >= 0), `every op succeeded: ${r.history.records.map((x) => `${x.kind}=${x.result}`).join(' ')}`);
    });
  }
});
