import assert from 'node:assert/strict';
import { valueOf } from '../../../engine/program/history.ts';
import type { Program } from '../../../engine/program/ops.ts';
import { before, interleaving, rec } from '../../helpers/scenario.ts';
import { mapped } from '../harness.ts';
import { mmap, w, pin, pinRead, read, pad, prog } from './gup.setup.ts';

describe('engine/mm/gup: reliable pins (seed 003 scenarios)', () => {
  it("COW after fork: the parent's later writes never reach the child", () => {
    const p = prog([mmap, w(1), { op: 'fork', child: 1 }, w(2)], [read()]);
    const r = interleaving(p, (x) => before(rec(x, 'P0.T0', 3), rec(x, 'P1.T0', 0)));
    assert.equal(valueOf(rec(r, 'P1.T0', 0)), 1);
  });

  for (const fast of [false, true]) {
    const how = fast ? 'GUP-fast' : 'GUP';
    it(`the child takes a R/O pin (${how}) and unmaps; the parent then writes: the pin does not see it`, () => {
      const p = prog([mmap, w(1), { op: 'fork', child: 1 }, ...pad(3), w(2)], [pin(false, fast), { op: 'munmap', region: 0, page: 0, pages: 1 }, ...pad(3), pinRead()]);
      const r = interleaving(p, (x) => rec(x, 'P1.T0', 0).result === 0 && before(rec(x, 'P1.T0', 1), rec(x, 'P0.T0', 6)) && before(rec(x, 'P0.T0', 6), rec(x, 'P1.T0', 5)));
      assert.equal(valueOf(rec(r, 'P1.T0', 5)), 1);
    });

    it(`a R/W pin (${how}) before fork; the parent writes after the fork: the pin sees the parent's writes`, () => {
      const p = prog([mmap, w(1), pin(true, fast), { op: 'fork', child: 1 }, w(2), pinRead()], [read(), w(3), read()]);
      const r = interleaving(p, (x) => rec(x, 'P0.T0', 2).result === 0);
      assert.equal(valueOf(rec(r, 'P0.T0', 5)), 2);
      // And the child has its own copy: it reads what was there at fork, then its own write.
      assert.deepEqual([valueOf(rec(r, 'P1.T0', 0)), valueOf(rec(r, 'P1.T0', 2))], [1, 3]);
    });

    it(`a R/O pin (${how}) on a page shared with a live child; the parent writes: the pin sees it`, () => {
      const p = prog([mmap, w(1), { op: 'fork', child: 1 }, pin(false, fast), w(2), pinRead()], [...pad(2), read(), read()]);
      // The child is alive (has not even read yet) when the parent pins.
      const r = interleaving(p, (x) => rec(x, 'P0.T0', 3).result === 0 && before(rec(x, 'P0.T0', 3), rec(x, 'P1.T0', 2)));
      assert.equal(valueOf(rec(r, 'P0.T0', 5)), 2);
      assert.equal(valueOf(rec(r, 'P1.T0', 3)), 1, 'the child must keep the fork-time value');
    });

    it(`the same R/O pin (${how}) after the child has exited: the pin sees the parent's write`, () => {
      const p = prog([mmap, w(1), { op: 'fork', child: 1 }, read(), pin(false, fast), w(2), pinRead()], [read()]);
      const r = interleaving(p, (x) => rec(x, 'P0.T0', 4).result === 0 && before(rec(x, 'P1.T0', 0), rec(x, 'P0.T0', 4)));
      assert.equal(valueOf(rec(r, 'P0.T0', 6)), 2);
    });
  }

  it('a R/O pin on an exclusive page mapped R/O by mprotect stays coherent after the write', () => {
    const p: Program = {
      processes: [
        {
          threads: [
            [
              mmap,
              w(1),
              { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'r' },
              pin(false),
              { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'rw' },
              w(2),
              pinRead(),
            ],
          ],
        },
      ],
    };
    const r = interleaving(p, () => true);
    assert.equal(rec(r, 'P0.T0', 3).result, 0);
    assert.equal(valueOf(rec(r, 'P0.T0', 6)), 2);
  });

  it('a device write through a R/W pin is what the process reads', () => {
    const p: Program = { processes: [{ threads: [[mmap, w(1), pin(true), { op: 'pinWrite', pin: 0, word: 1, value: 7 }, read(1)]] }] };
    const r = interleaving(p, () => true);
    assert.equal(valueOf(rec(r, 'P0.T0', 4)), 7);
  });

  it('pins of one process race its fork and its writes without any violation', () => {
    const p: Program = {
      processes: [
        { threads: [[mmap, w(1), pin(false, true), w(2), pinRead()], [{ op: 'fork', child: 1 }, w(3, 1)]] },
        { threads: [[read(), w(4), read()]] },
      ],
    };
    assert.throws(() => interleaving(p, () => false, 300), /no interleaving/);
  });
});
