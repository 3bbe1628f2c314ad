import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { OpRecord } from '../../engine/program/history.ts';
import { properties } from '../../properties/index.ts';
import { replayCase } from '../../runner/index.ts';
import { history, rec, type OpOf, type Row } from '../helpers/records.ts';
import { verdict, write } from './data-integrity.setup.ts';

/*
 * An mmap that ran beside a fork: dup_mmap and mmap both take the parent's
 * mmap_lock for write, so the mapping is wholly in the child or wholly
 * absent, and the op records alone cannot say which. P0 maps page 1 of a
 * one-page memfd at F (beyond its end: a store there is SIGBUS); P1 is the
 * child, with a grows-down stack just above F.
 */
const F = 203;
const create: OpOf<'memfdCreate'> = { op: 'memfdCreate', file: 0, pages: 1 };
const fileMap: OpOf<'memfdMmap'> = { op: 'memfdMmap', region: 0, file: 0, page: 1, pages: 2, prot: 'rw', shared: true };
const fork: OpOf<'fork'> = { op: 'fork', child: 1 };
const stack: OpOf<'mmap'> = { op: 'mmap', region: 1, pages: 1, prot: 'rw', growsdown: true };

/** P0 maps the file over [start, end], beside a fork over [10, 20]; P1 then stores at F at [40, 45], growing its stack (at 42) or not. */
function run(start: number, end: number, grew: boolean): OpRecord[] {
  const rows: Row[] = [
    rec('P0.T0', create, 0, 0, 1, 0, {}),
    rec('P0.T0', fork, 0, 10, 20, 1, { newAs: 1 }),
    rec('P0.T1', fileMap, 0, start, end, F, { addr: F, pages: 2 }),
    rec('P1.T1', stack, 1, 30, 35, F + 1, { addr: F + 1, pages: 1 }),
    rec('P1.T0', write(5, -1), 1, 40, 45, 0, { addr: F, pages: 1, value: 5, ...(grew ? { grown: { addr: F, pages: 1, step: 42 } } : {}) }),
  ];
  return history(...rows);
}

const beyondEnd = /P1\.T0 write .* succeeded, but its memfd page lay beyond the end of the file while it ran: size \{1\} pages/;

describe('properties: data-integrity on an mmap beside a fork (maybe in the child)', () => {
  it('the campaign\'s case: the child grew its stack where the fork-concurrent memfd mapping would have been', () => {
    const { program, schedule } = JSON.parse(readFileSync('test/fixtures/properties/data-integrity-066698ac93.json', 'utf8'));
    const r = replayCase(program, schedule, { properties });
    assert.equal(r.violation, undefined, r.violation?.message);
    const recs = r.history.records;
    const f = recs.find((x) => x.kind === 'fork')!;
    const m = recs.find((x) => x.kind === 'memfdMmap' && x.thread === 'P0.T1' && x.result >= 0)!;
    assert.ok(m.start < f.end && m.end > f.start, `the memfd mmap (${m.start}-${m.end}) overlapped the fork (${f.start}-${f.end})`);
    const w = recs.find((x) => x.kind === 'write' && x.as !== f.as)!;
    assert.ok(w.kind === 'write' && w.result === 0 && w.grown?.addr === m.result, 'the child\'s store succeeded by growing its stack at the mapping\'s address');
  });

  it('an mmap beside the fork: the child may have it or not; a store there succeeds only through a stack it grew', () => {
    assert.equal(verdict(run(5, 25, true)), undefined);
    // Neither possibility lets a store succeed without growing: unmapped, or a page beyond the end of the file.
    assert.match(verdict(run(5, 25, false)) ?? '', beyondEnd);
  });

  it('an mmap that returned before the fork began is certainly in the child: its store beyond the end of the file is a violation', () => {
    assert.match(verdict(run(2, 5, false)) ?? '', beyondEnd);
  });

  it('an mmap that began after the fork returned is certainly not in the child: the address is unmapped there', () => {
    assert.equal(verdict(run(22, 25, true)), undefined);
    assert.match(verdict(run(22, 25, false)) ?? '', /P1\.T0 write .* succeeded, but the page was not mapped writable while it ran: protection \{unmapped\}/);
  });
});
