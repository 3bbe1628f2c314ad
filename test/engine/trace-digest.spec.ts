import assert from 'node:assert/strict';
import { digestOf, loadDigestCases } from '../fixtures/trace-digests.ts';

describe('engine: the clean model behaves as recorded', () => {
  it('every recorded program and schedule gives the recorded trace, history and verdict', () => {
    const cases = loadDigestCases();
    assert.ok(cases.length >= 300, `only ${cases.length} recorded cases`);
    const changed = cases.flatMap((c, i) => (digestOf(c.program, c.schedule) === c.digest ? [] : [i]));
    assert.deepEqual(changed, [], `${changed.length} of ${cases.length} cases changed behaviour (first: case ${changed[0]})`);
  });
});
