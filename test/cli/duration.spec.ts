import assert from 'node:assert/strict';
import { durationMs } from '../../cli/duration.ts';

describe('cli/duration', () => {
  it('60s, 500ms, 2m, 1h, bare seconds; anything else is undefined', () => {
    assert.deepEqual(['60s', '500ms', '2m', '1h', '90', '1.5s'].map(durationMs), [60_000, 500, 120_000, 3_600_000, 90_000, 1500]);
    for (const bad of ['', 'soon', '-1s', '0s', '10 minutes', '5x']) assert.equal(durationMs(bad), undefined, bad);
  });
});
