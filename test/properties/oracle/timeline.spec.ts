import assert from 'node:assert/strict';
import type { OpRecord } from '../../../engine/program/history.ts';
import { Timeline, UNMAPPED, initially, type TimelineEvent } from '../../../properties/oracle/timeline.ts';

const ev = (start: number, end: number, v: number, weak = false): TimelineEvent => ({ start, end, values: new Set([v]), by: { start, end } as OpRecord, weak });
const during = (t: Timeline, s: number, e: number): number[] => [...t.possibleDuring(s, e)].sort((a, b) => a - b);

describe('properties/oracle/timeline: what an address may hold during an access', () => {
  it('before its first event completes, the address may still hold nothing (an mmap beside a fork, or beside the access)', () => {
    const t = new Timeline();
    assert.deepEqual(during(t, 0, 1), [UNMAPPED], 'no event: never mapped');
    t.add(ev(2, 6, 7));
    assert.deepEqual(during(t, 4, 8), [UNMAPPED, 7], 'overlapping the first event: before it or after');
    assert.deepEqual(during(t, 6, 8), [7], 'after it completed: only what it set');
    t.add(ev(8, 9, 3, true));
    assert.deepEqual(during(t, 10, 11), [3, 7], 'a weak event supersedes nothing');
  });

  it('a timeline with an initial value starts from it, not from nothing', () => {
    const t = new Timeline();
    t.add(initially(0));
    t.add(ev(2, 6, 7));
    assert.deepEqual(during(t, 4, 8), [0, 7]);
  });
});
