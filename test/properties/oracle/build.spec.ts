import assert from 'node:assert/strict';
import type { OpRecord } from '../../../engine/program/history.ts';
import { history, rec, type Row } from '../../helpers/records.ts';
import { buildOracle, buildRights } from '../../../properties/oracle/build.ts';
import { cell } from '../../../properties/oracle/cells.ts';

const A = 200;
const write = (value: number, start: number): Row => rec('P0.T0', { op: 'write', region: 0, page: 0, word: 0, value }, 0, start, start + 2, 0, { addr: A, pages: 1, value });
const twoPages = (): OpRecord[] => history(rec('P0.T0', { op: 'mmap', region: 0, pages: 2, prot: 'rw' }, 0, 0, 2, A, { addr: A, pages: 2 }), write(5, 2));

describe('properties/oracle/build: one oracle per run', () => {
  it('the same records give the same oracle: data-integrity and gup-pin-coherence share it', () => {
    const recs = twoPages();
    const o = buildOracle(recs);
    assert.equal(buildOracle(recs), o);
    assert.equal(buildRights(recs), o, 'the rights come from the oracle already built');
  });

  it('records that grew, or another run, get an oracle of their own', () => {
    const recs = twoPages();
    const o = buildOracle(recs);
    assert.deepEqual([...o.content.get(0, cell(A, 0)).possibleDuring(5, 6)], [5]);
    recs.push(write(7, 6).record(2));
    const grown = buildOracle(recs);
    assert.notEqual(grown, o);
    assert.deepEqual([...grown.content.get(0, cell(A, 0)).possibleDuring(9, 10)], [7]);
    const other = twoPages();
    assert.notEqual(buildOracle(other), grown);
    assert.notEqual(buildOracle(recs), grown, 'one slot: the other run replaced it');
  });
});
