import assert from 'node:assert/strict';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { PG_swapcache } from '../../../engine/mm/mm_types.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { RO, RW, folioAt, load, mapped, pteAt, run, store } from '../harness.ts';
import { swap_count } from '../../../engine/mm/swapfile.ts';
import { fork, swapon } from './memory.setup.ts';

describe('engine/mm/memory: swap-in (do_swap_page)', () => {
  /** A page written with `value`, then swapped out by MADV_PAGEOUT. */
  function* swappedOut(value: number, prot = RW) {
    const t = yield* swapon(8);
    const { mm, addr } = yield* mapped(2, RW);
    yield* store(mm, addr, value);
    if (prot !== RW) assert.equal(yield* sys_mprotect(mm, addr, 2, prot), 0);
    assert.equal(yield* do_madvise(mm, addr, 1, 'PAGEOUT'), 0);
    const e = pteAt(mm, addr) as { kind: string; offset: number; exclusive: boolean };
    assert.equal(e.kind, 'swap');
    return { mm, addr, si: machine().swap_info[t]!, e };
  }

  it('a read fault maps an exclusive swapped page writable but clean, and keeps the slot (the swap cache keeps it)', () => {
    run(function* () {
      const { mm, addr, si, e } = yield* swappedOut(5);
      assert.equal(e.exclusive, true);
      assert.equal(yield* load(mm, addr), 5);
      const f = folioAt(mm, addr);
      assert.deepEqual(pteAt(mm, addr), { kind: 'present', pfn: f.pfn, write: true, dirty: false, protnone: false });
      assert.ok(PageAnonExclusive(f));
      assert.equal(swap_count(si, e.offset), 0, 'the PTE no longer references the slot');
      assert.equal(yield* store(mm, addr, 6), 0);
      assert.equal(folioAt(mm, addr), f, 'written in place');
    });
  });

  it('a write fault maps it writable and dirty and frees the swap cache copy', () => {
    run(function* () {
      const { mm, addr, si, e } = yield* swappedOut(5);
      assert.equal(yield* store(mm, addr, 7, 1), 0);
      const f = folioAt(mm, addr);
      assert.deepEqual(pteAt(mm, addr), { kind: 'present', pfn: f.pfn, write: true, dirty: true, protnone: false });
      assert.equal(f.flags & PG_swapcache, 0, 'out of the swap cache');
      assert.equal(si.swap_map!.map[e.offset], 0, 'the slot is free');
      assert.deepEqual(f.data, [5, 7]);
    });
  });

  it('in a read-only mapping the page comes back read-only; a page swapped while shared comes back read-only and COWs', () => {
    run(function* () {
      const { mm, addr } = yield* swappedOut(5, RO);
      assert.equal(yield* load(mm, addr), 5);
      assert.equal((pteAt(mm, addr) as { write: boolean }).write, false);
    });
    run(function* () {
      const { mm, addr } = yield* swappedOut(5);
      const child = (yield* dup_mm(mm, 'P1')) as typeof mm;
      assert.equal((pteAt(child, addr) as { exclusive: boolean }).exclusive, false, 'fork shares the entry, not exclusively');
      assert.equal(yield* load(mm, addr), 5);
      const f = folioAt(mm, addr);
      assert.equal((pteAt(mm, addr) as { write: boolean }).write, false, 'shared with the child: read-only');
      assert.equal(yield* store(mm, addr, 6), 0);
      assert.notEqual(folioAt(mm, addr), f, 'COW');
      assert.equal(yield* load(child, addr), 5);
      yield* mmput(child);
    });
  });
});
