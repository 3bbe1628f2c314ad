// The data-integrity oracle on shared hugetlbfs file mappings (properties/oracle/files.ts), on recorded histories.
import assert from 'node:assert/strict';
import type { OpRecord } from '../../engine/program/history.ts';
import { rec, type OpOf, type Row } from '../helpers/records.ts';
import { verdict } from './data-integrity.setup.ts';

const map: OpOf<'hugetlbMmap'> = { op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 1, prot: 'rw' };
const rd: OpOf<'read'> = { op: 'read', region: 0, page: 0, word: 0 };
const wr = (value: number): OpOf<'write'> => ({ op: 'write', region: 0, page: 0, word: 0, value });
const punch: OpOf<'hugetlbPunch'> = { op: 'hugetlbPunch', file: 0, hpage: 0, hpages: 1 };
/** Each thread's first op: these histories run one op per thread. */
const first = (...rows: Row[]): OpRecord[] => rows.map((r) => r.record(0));
const mapped = (as: number, addr: number): Row => rec(`P${as}.T0`, map, as, 0, 1, addr, { addr, pages: 16 });
const read = (as: number, addr: number, start: number, end: number, value: number): Row => rec(`P${as}.T0`, rd, as, start, end, 0, { addr, pages: 1, value });

const check = verdict;

describe('properties: the data-integrity oracle on shared file mappings', () => {
  it("one process reads another's write to the same file page, at another address", () => {
    const base = [mapped(0, 176), mapped(1, 144), rec('P0.T0', wr(5), 0, 2, 3, 0, { addr: 176, pages: 1, value: 5 })];
    assert.equal(check(first(...base, read(1, 144, 4, 5, 5))), undefined);
    assert.match(check(first(...base, read(1, 144, 4, 5, 0))) ?? '', /returned 0; allowed: \{5\}/);
  });

  it('after a hole punch the page reads zero, not the old data', () => {
    const base = [mapped(0, 176), rec('P0.T0', wr(5), 0, 2, 3, 0, { addr: 176, pages: 1, value: 5 }), rec('P1.T0', punch, 1, 4, 6, 0, {})];
    assert.equal(check(first(...base, read(0, 176, 7, 8, 0))), undefined);
    assert.match(check(first(...base, read(0, 176, 7, 8, 5))) ?? '', /returned 5; allowed: \{0\}/);
    // A read overlapping the punch may see either.
    assert.equal(check(first(...base, read(0, 176, 5, 8, 5))), undefined);
  });
});
