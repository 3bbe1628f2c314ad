// The oracle's pins (properties/oracle/pins.ts) against what a failed or a
// concurrent detach may have done: a MREMAP_FIXED that failed after it had
// unmapped its target, a DONTNEED that overlapped the pin, a device write
// that overlapped the DONTNEED. Each was a false positive of the clean model;
// each test also shows the violation the oracle must still see.
import assert from 'node:assert/strict';
import { Replay } from '../../engine/index.ts';
import { valueOf, type OpRecord, type Range } from '../../engine/program/history.ts';
import type { Program } from '../../engine/program/ops.ts';
import { history, rec, type OpOf, type Row } from '../helpers/records.ts';
import { describeViolation, runChecked } from '../helpers/run.ts';
import { pinVerdict as verdict } from './pins.setup.ts';

const EFAULT = -14;

const mmap = (region: number, pages: number): OpOf<'mmap'> => ({ op: 'mmap', region, pages, prot: 'rw' });
const read = (region: number, page = 0): OpOf<'read'> => ({ op: 'read', region, page, word: 0 });
const write = (region: number, value: number, page = 0): OpOf<'write'> => ({ op: 'write', region, page, word: 0, value });
const pin: OpOf<'pin'> = { op: 'pin', pin: 0, region: 0, page: 0, write: true, fast: false, longterm: false };
const pinRead: OpOf<'pinRead'> = { op: 'pinRead', pin: 0, word: 0 };
const pinWrite = (value: number): OpOf<'pinWrite'> => ({ op: 'pinWrite', pin: 0, word: 0, value });
const pinned = { pin: 0, pinId: 0 };
const at = (addr: number, pages = 1): Range => ({ addr, pages });

describe('properties: a pin against a failed or concurrent detach', () => {
  describe('a MREMAP_FIXED that failed after unmapping its target', () => {
    // B (region 1, at 207) is pinned; A (region 0, at 205) has lost its second
    // page. mremap(A, 2 pages, MREMAP_FIXED to B) unmaps B, then finds A is no
    // longer one VMA: -EFAULT (mremap_to(): do_munmap of the target comes
    // before vma_to_resize). A new mmap (region 2) lands where B was.
    const B = 207;
    const base = (fixed: boolean): Row[] => [
      rec('P0.T0', mmap(1, 1), 0, 0, 2, B, at(B)),
      rec('P0.T0', write(1, 7), 0, 2, 22, 0, { ...at(B), value: 7 }),
      rec('P0.T0', mmap(0, 2), 0, 22, 24, 205, at(205, 2)),
      rec('P0.T0', { op: 'munmap', region: 0, page: 1, pages: 1 }, 0, 24, 33, 0, at(206)),
      rec('P0.T0', { ...pin, region: 1 }, 0, 33, 39, 0, { ...at(B), ...pinned }),
      fixed
        ? rec('P0.T0', { op: 'mremap', region: 0, pages: 2, maymove: true, fixedTo: 1 }, 0, 39, 49, EFAULT, { ...at(205, 2), fixedAddr: B })
        : rec('P0.T0', { op: 'mremap', region: 0, pages: 2, maymove: true }, 0, 39, 49, EFAULT, at(205, 2)),
      rec('P0.T0', mmap(2, 1), 0, 49, 51, B, at(B)),
    ];

    it('a device write through the pin need not show in the new mapping', () => {
      const h = (fixed: boolean, value: number) =>
        history(...base(fixed), rec('P0.T0', pinWrite(9), 0, 51, 52, 0, { ...at(B), ...pinned, value: 9 }), rec('P0.T0', read(2), 0, 52, 71, 0, { ...at(B), value }));
      assert.equal(verdict(h(true, 0)), undefined);
      assert.equal(verdict(h(true, 9)), undefined, 'and may (the target may not have been unmapped)');
      assert.match(verdict(h(true, 5)) ?? '', /data-integrity: P0\.T0 read r2\[0\]\.0 .* returned 5; allowed: \{(9, 0|0, 9)\}/, 'nobody wrote 5');
      assert.match(verdict(h(false, 0)) ?? '', /data-integrity: P0\.T0 read r2\[0\]\.0 .* returned 0; allowed: \{9\}/, 'a failed mremap without MREMAP_FIXED unmapped nothing');
    });

    it('a device read through the pin need not see the new mapping', () => {
      const h = (fixed: boolean, value: number) =>
        history(...base(fixed), rec('P0.T0', write(2, 5), 0, 51, 70, 0, { ...at(B), value: 5 }), rec('P0.T0', pinRead, 0, 70, 71, 0, { ...at(B), ...pinned, value }));
      assert.equal(verdict(h(true, 7)), undefined);
      assert.equal(verdict(h(true, 5)), undefined, 'and may');
      assert.match(verdict(h(true, 3)) ?? '', /gup-pin-coherence: P0\.T0 pinRead #0\.0 .* read 3/, 'nobody wrote 3');
      assert.match(verdict(h(false, 7)) ?? '', /gup-pin-coherence: P0\.T0 pinRead #0\.0 .* read 7; allowed: \{5\}/, 'a failed mremap without MREMAP_FIXED unmapped nothing');
    });

    it('on the clean model (v6.18: remap_move moves the VMA before the hole onto the target, the live kernel too)', () => {
      for (const [tail, check] of [
        [[pinWrite(9), read(2)], (r: OpRecord[]) => assert.equal(valueOf(r.at(-1)!), 0)],
        [[write(2, 5), pinRead], (r: OpRecord[]) => assert.equal(valueOf(r.at(-1)!), 7)],
      ] as const) {
        const program: Program = {
          processes: [
            {
              threads: [
                [mmap(1, 1), write(1, 7), mmap(0, 2), { op: 'munmap', region: 0, page: 1, pages: 1 }, { ...pin, region: 1 }, { op: 'mremap', region: 0, pages: 2, maymove: true, fixedTo: 1 }, mmap(2, 1), ...tail],
              ],
            },
          ],
        };
        const r = runChecked(program, new Replay([]));
        assert.equal(r.violation, undefined, describeViolation(r));
        const recs = r.history.records;
        const [m4, m5] = [recs[4]!, recs[5]!];
        assert.ok(m4.kind === 'pin' && m5.kind === 'mremap');
        assert.deepEqual([m5.result, m5.fixedAddr], [m4.addr, m4.addr], 'moved onto the target, over the pinned page');
        assert.notEqual(recs[6]!.result, m4.addr, 'the new mmap found the target taken');
        check(recs);
      }
    });
  });

  describe('a detach that overlapped the pin may have come before GUP took its page', () => {
    // T1's pin (steps 12-65) waits while T0's DONTNEED zaps (34-40) and T0
    // writes 2 (40-53); GUP then faults in and pins the page holding 2.
    const h = (pinEnd: number) =>
      history(
        rec('P0.T0', mmap(0, 1), 0, 0, 2, 207, at(207)),
        rec('P0.T0', write(0, 1), 0, 2, 34, 0, { ...at(207), value: 1 }),
        rec('P0.T0', { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' }, 0, 34, 40, 0, at(207)),
        rec('P0.T0', write(0, 2), 0, 40, 53, 0, { ...at(207), value: 2 }),
        rec('P0.T1', pin, 0, 12, pinEnd, 0, { ...at(207), ...pinned }),
        rec('P0.T1', pinRead, 0, 65, 66, 0, { ...at(207), ...pinned, value: 2 }),
      );

    it('a device read sees what was written after the DONTNEED', () => {
      assert.equal(verdict(h(65)), undefined);
      assert.match(verdict(h(30)) ?? '', /gup-pin-coherence: P0\.T1 pinRead #0\.0 .* read 2; allowed: \{0, 1\}/, 'a pin taken before the DONTNEED began is detached by it');
    });

    it('on the clean model', () => {
      const program: Program = {
        processes: [{ threads: [[mmap(0, 1), write(0, 1), { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' }, write(0, 2)], [pin, pinRead]] }],
      };
      const r = runChecked(program, new Replay([{ step: 0, task: 0 }, { step: 12, task: 1 }]));
      assert.equal(r.violation, undefined, describeViolation(r));
      const recs = r.history.records;
      const p = recs.find((x) => x.op.op === 'pin')!;
      const d = recs.find((x) => x.op.op === 'madvise')!;
      assert.ok(p.start < d.start && d.end < p.end, 'the pin overlapped the DONTNEED');
      assert.equal(valueOf(recs.find((x) => x.kind === 'pinRead')!), 2);
    });
  });

  describe('a device write that overlapped a DONTNEED', () => {
    // T0 pinned the page (2-22) and is in DONTNEED (22-33); T1's device write
    // (23-24) lands before the zap, and T2 reads it (25-26).
    const h = (readAt: number, value: number) =>
      history(
        rec('P0.T0', mmap(0, 1), 0, 0, 2, 207, at(207)),
        rec('P0.T0', pin, 0, 2, 22, 0, { ...at(207), ...pinned }),
        rec('P0.T1', pinWrite(9), 0, 23, 24, 0, { ...at(207), ...pinned, value: 9 }),
        rec('P0.T2', read(0), 0, readAt, readAt + 1, 0, { ...at(207), value }),
        rec('P0.T0', { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' }, 0, 22, 33, 0, at(207)),
      );

    it('a read before the zap may see it; one after the DONTNEED may not', () => {
      assert.equal(verdict(h(25, 9)), undefined);
      assert.equal(verdict(h(25, 0)), undefined);
      assert.match(verdict(h(34, 9)) ?? '', /data-integrity: P0\.T2 read r0\[0\]\.0 .* returned 9; allowed: \{0\}/, 'the DONTNEED took the page away');
    });

    it('on the clean model', () => {
      const program: Program = {
        processes: [{ threads: [[mmap(0, 1), pin, { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' }], [pinWrite(9)], [read(0)]] }],
      };
      const r = runChecked(program, new Replay([{ step: 23, task: 1 }, { step: 25, task: 2 }]));
      assert.equal(r.violation, undefined, describeViolation(r));
      const recs = r.history.records;
      const d = recs.find((x) => x.op.op === 'madvise')!;
      const rd = recs.find((x) => x.op.op === 'read')!;
      assert.ok(rd.end < d.end && valueOf(rd) === 9, 'the read saw the device write during the DONTNEED');
    });
  });
});
