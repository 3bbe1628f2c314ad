import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeSchedule, encodeSchedule, ScheduleFormatError } from '../../../engine/index.ts';

describe('engine/sched: schedule codec', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(10_000)), fc.array(fc.nat(8)), (steps, tasks) => {
        const sorted = [...steps].sort((a, b) => a - b);
        const s = sorted.map((step, i) => ({ step, task: tasks[i % Math.max(1, tasks.length)] ?? 0 }));
        assert.deepEqual(decodeSchedule(encodeSchedule(s)), s);
      }),
    );
  });

  it('says what is wrong with a bad schedule', () => {
    assert.throws(() => decodeSchedule('3:1,x'), ScheduleFormatError);
    assert.throws(() => decodeSchedule('5:1,3:0'), /steps must increase/);
  });
});
