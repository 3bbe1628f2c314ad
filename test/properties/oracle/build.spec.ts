import assert from 'node:assert/strict';
import type { OpRecord } from '../../../engine/program/history.ts';
import { buildOracle, buildRights } from '../../../properties/oracle/build.ts';
import { cell } from '../../../properties/oracle/cells.ts';

const A = 200;
const rec = (index: number, op: OpRecord['op'], start: number, end: number, result: number, extra: Partial<OpRecord> = {}): OpRecord =>
  ({
  kind: op.op,
  thread: 'P0.T0',
  index,
  op,
  as: 0,
  start,
  end,
  result,
  ...extra,
  }) as OpRecord;

const history = (): OpRecord[] => [
  rec(0, { op: 'mmap', region: 0, pages: 2, prot: 'rw' }, 0, 2, A, { addr: A, pages: 2 }),
  rec(1, { op: 'write', region: 0, page: 0, word: 0, value: 5 }, 2, 4, 0, { addr: A, pages: 1, value: 5 }),
];

describe('properties/oracle/build: one oracle per run', () => {
  it('the same records give the same oracle: data-integrity and gup-pin-coherence share it', () => {
    const recs = history();
    const o = buildOracle(recs);
    assert.equal(buildOracle(recs), o);
    assert.equal(buildRights(recs), o, 'the rights come from the oracle already built');
  });

  it('records that grew, or another run, get an oracle of their own', () => {
    const recs = history();
    const o = buildOracle(recs);
    assert.deepEqual([...o.content.get(0, cell(A, 0)).possibleDuring(5, 6)], [5]);
    recs.push(rec(2, { op: 'write', region: 0, page: 0, word: 0, value: 7 }, 6, 8, 0, { addr: A, pages: 1, value: 7 }));
    const grown = buildOracle(recs);
    assert.notEqual(grown, o);
    assert.deepEqual([...grown.content.get(0, cell(A, 0)).possibleDuring(9, 10)], [7]);
    const other = history();
    assert.notEqual(buildOracle(other), grown);
    assert.notEqual(buildOracle(recs), grown, 'one slot: the other run replaced it');
  });
});
