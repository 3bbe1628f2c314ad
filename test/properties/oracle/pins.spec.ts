// A pin is of a physical page: mremap moves the page (move_ptes) and the pin
// with it, so the device's writes show at the new address (properties/oracle/pins.ts).
// Each case also shows the violation the oracle must still see: nothing a
// pin taken after the move wrote reaches the new address, a certain move
// leaves no stale value readable, and munmap / DONTNEED still detach.
import assert from 'node:assert/strict';
import { Replay } from '../../../engine/index.ts';
import { valueOf, type OpRecord, type Range } from '../../../engine/program/history.ts';
import type { Program } from '../../../engine/program/ops.ts';
import { pinLives } from '../../../properties/oracle/pins.ts';
import { history, rec, type OpOf, type Row } from '../../helpers/records.ts';
import { describeViolation, runChecked } from '../../helpers/run.ts';
import { pinVerdict as verdict } from '../pins.setup.ts';

const A = 205; // region 0, moved to B
const B = 202;
const at = (addr: number, pages = 1): Range => ({ addr, pages });
const mmap: OpOf<'mmap'> = { op: 'mmap', region: 0, pages: 3, prot: 'rw' };
const read = (page = 0): OpOf<'read'> => ({ op: 'read', region: 0, page, word: 0 });
const write = (value: number): OpOf<'write'> => ({ op: 'write', region: 0, page: 0, word: 0, value });
const pin: OpOf<'pin'> = { op: 'pin', pin: 1, region: 0, page: 0, write: true, fast: true, longterm: false };
const pinWrite = (value: number): OpOf<'pinWrite'> => ({ op: 'pinWrite', pin: 1, word: 0, value });
const pinRead: OpOf<'pinRead'> = { op: 'pinRead', pin: 1, word: 0 };
const pinned = { pin: 1, pinId: 0 };
const move = (dontunmap: boolean): OpOf<'mremap'> => ({ op: 'mremap', region: 0, pages: 3, maymove: true, dontunmap });

/** mmap at A, write 1, then the pin and the move over the given steps. */
const prefix = (pinAt: [number, number], moveAt: [number, number], dontunmap = true): Row[] => [
  rec('P0.T0', mmap, 0, 0, 2, A, at(A, 3)),
  rec('P0.T0', write(1), 0, 2, 4, 0, { ...at(A), value: 1 }),
  rec('P0.T0', pin, 0, pinAt[0], pinAt[1], 0, { ...at(A), ...pinned }),
  rec('P0.T1', move(dontunmap), 0, moveAt[0], moveAt[1], B, { ...at(A, 3), newAddr: B }),
];
const devWrite = (s: number): Row => rec('P0.T0', pinWrite(2), 0, s, s + 1, 0, { ...at(A), ...pinned, value: 2 });
const readAt = (addr: number, s: number, value: number): Row => rec('P0.T2', read(), 0, s, s + 1, 0, { ...at(addr), value });

describe('properties/oracle/pins: a pin follows its page across mremap', () => {
  it('the pin overlapped the DONTUNMAP move (the corpus entry): the device write may be at either address', () => {
    const h = (addr: number, value: number) => verdict(history(...prefix([42, 58], [38, 56]), devWrite(58), readAt(addr, 60, value)));
    assert.equal(h(B, 2), undefined, 'GUP-fast took the page before move_ptes: it went to B');
    assert.equal(h(B, 1), undefined, 'or after: the pin is of the new page at A');
    assert.equal(h(A, 2), undefined);
    assert.equal(h(A, 0), undefined);
    assert.match(h(B, 3) ?? '', /data-integrity: P0\.T2 read .* returned 3; allowed: \{[012, ]+\}/, 'nobody wrote 3 there');
    const stays = pinLives(history(...prefix([42, 58], [38, 56])))
      .get(0)!
      .stays.map((s) => [s.addr, s.sureFrom]);
    assert.deepEqual(stays, [[A, -Infinity], [B, Infinity]], 'neither address is certain after the move');
  });

  it('a pin taken before the move: its later writes are at the new address, superseding what was there', () => {
    for (const dontunmap of [true, false]) {
      const h = (addr: number, value: number) => verdict(history(...prefix([4, 10], [12, 20], dontunmap), devWrite(22), readAt(addr, 30, value)));
      assert.equal(h(B, 2), undefined);
      assert.match(h(B, 1) ?? '', /data-integrity: P0\.T2 read r0\[0\]\.0 \(address 202, .* returned 1; allowed: \{2\}/, 'the stale value the device overwrote');
      if (dontunmap) assert.match(h(A, 2) ?? '', /read r0\[0\]\.0 \(address 205, .* returned 2; allowed: \{0\}/, 'the old range is empty: the page left it');
    }
  });

  it('a device write that overlapped the move may land before move_ptes (and be carried) or after', () => {
    const h = (value: number) => verdict(history(...prefix([4, 10], [12, 20]), devWrite(15), readAt(B, 30, value)));
    assert.equal(h(2), undefined);
    assert.equal(h(1), undefined, 'the copy may have run before the write');
    assert.match(verdict(history(...prefix([4, 10], [12, 20]), devWrite(15), readAt(A, 30, 2))) ?? '', /returned 2; allowed: \{0\}/, 'never in the emptied old range once the move is over');
  });

  it('a pin taken after the move is of the new page at the old range: its writes never reach the new address', () => {
    const h = (addr: number, value: number) => verdict(history(...prefix([22, 26], [12, 20]), devWrite(28), readAt(addr, 30, value)));
    assert.equal(h(A, 2), undefined);
    assert.match(h(B, 2) ?? '', /data-integrity: .* \(address 202, .* returned 2; allowed: \{[01, ]+\}/, 'the old value (and the zero mremap left at A, which the copy reads as it runs)');
  });

  it('munmap or DONTNEED of the new address still detaches the page', () => {
    const zap = (s: number): Row => rec('P0.T1', { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' }, 0, s, s + 3, 0, at(B));
    const h = (value: number) => verdict(history(...prefix([4, 10], [12, 20]), zap(21), devWrite(26), readAt(B, 30, value)));
    assert.equal(h(0), undefined);
    assert.match(h(2) ?? '', /returned 2; allowed: \{0\}/, 'the device wrote into a page no longer mapped');
  });

  it('MREMAP_FIXED onto another region: the page is at the target, whose own pin is detached', () => {
    const fixed: OpOf<'mremap'> = { op: 'mremap', region: 0, pages: 3, maymove: true, fixedTo: 1 };
    const h = (value: number) =>
      verdict(
        history(
          rec('P0.T0', mmap, 0, 0, 2, A, at(A, 3)),
          rec('P0.T0', { ...mmap, region: 1 }, 0, 2, 3, B, at(B, 3)),
          rec('P0.T0', pin, 0, 4, 10, 0, { ...at(A), ...pinned }),
          rec('P0.T1', fixed, 0, 12, 20, B, { ...at(A, 3), newAddr: B, fixedAddr: B }),
          devWrite(22),
          readAt(B, 30, value),
        ),
      );
    assert.equal(h(2), undefined);
    assert.match(h(0) ?? '', /returned 0; allowed: \{2\}/);
  });

  describe('gup-pin-coherence: a device read sees the page at its new address', () => {
    const wr = (value: number, s: number): Row => rec('P0.T2', write(value), 0, s, s + 1, 0, { ...at(B), value });
    const devRead = (value: number): Row => rec('P0.T0', pinRead, 0, 30, 31, 0, { ...at(A), ...pinned, value });
    it('after a move, what the process wrote at the new address; not the stale value', () => {
      const h = (value: number) => verdict(history(...prefix([4, 10], [12, 20]), wr(7, 22), devRead(value)));
      assert.equal(h(7), undefined);
      assert.match(h(1) ?? '', /gup-pin-coherence: P0\.T0 pinRead #1\.0 \(pinned at address 205\) read 1; allowed: \{7\}/);
    });
    it('a pin taken after the move does not see the new address', () => {
      const h = (value: number) => verdict(history(...prefix([22, 26], [12, 20]), wr(7, 27), devRead(value)));
      assert.equal(h(0), undefined, 'the new page at the old range');
      assert.match(h(7) ?? '', /gup-pin-coherence: .* read 7; allowed: \{0\}/);
    });
  });

  it('on the clean model: the corpus entry (GUP-fast pins, move_ptes moves the page, the device writes, fork copies it)', () => {
    const program: Program = {
      processes: [
        { threads: [[mmap, write(1), pin, pinWrite(2), { op: 'fork', child: 2 }], [{ op: 'write', region: 0, page: 0, word: 1, value: 3 }, move(true)]] },
        { threads: [] },
        { threads: [[read()]] },
      ],
      frames: 15,
    };
    const steps = [7, 9, 11, 21, 22, 23, 24, 25, 26, 27, 32, 40, 41, 42, 44, 45, 47];
    const r = runChecked(program, new Replay(steps.map((step, i) => ({ step, task: i % 2 === 0 ? 1 : 0 }))));
    assert.equal(r.violation, undefined, describeViolation(r));
    const recs = r.history.records;
    const p = recs.find((x) => x.kind === 'pin')!;
    const m = recs.find((x) => x.kind === 'mremap')!;
    const child = recs.find((x) => x.thread === 'P2.T0')!;
    assert.ok(m.kind === 'mremap' && child.kind === 'read' && m.start < p.end && p.start < m.end, 'the pin overlapped the move');
    assert.deepEqual([m.addr, m.newAddr, child.addr, valueOf(child)], [A, B, B, 2], 'the child read the device write at the new address');
  });
});
