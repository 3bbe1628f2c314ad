import assert from 'node:assert/strict';
import { currentStep } from '../../../engine/index.ts';
import { FOLL_WRITE, pin_user_pages_fast, unpin_user_page } from '../../../engine/mm/gup.ts';
import { type MmStruct } from '../../../engine/mm/mm_types.ts';
import { mmap_write_lock, mmap_write_unlock } from '../../../engine/mm/mmap_lock.ts';
import { RO, RW, folioAt, kernel, load, mapped, run, store } from '../harness.ts';
import { pin, read, EFAULT, pinned } from './gup.setup.ts';

describe('engine/mm/gup: GUP and pins (gup.ts)', () => {
  it('GUP-fast takes a present, eligible page without mmap_lock, and falls back to the slow path otherwise', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      const f = yield* pinned(mm, addr, FOLL_WRITE, true);
      assert.equal(f, folioAt(mm, addr));
      // Not present: the slow path faults it in.
      const g = yield* pinned(mm, addr + 1, 0, true);
      assert.equal(g, folioAt(mm, addr + 1));
      assert.equal(yield* pin_user_pages_fast(mm, addr + 5, 0), EFAULT);
      unpin_user_page(f);
      unpin_user_page(g);
    });
  });
});

describe('engine/mm/gup: GUP-fast is lockless', () => {
  it('pins a present page while another task holds mmap_lock for write; the slow path has to wait', () => {
    for (const [flags, prot, fastOk] of [
      [FOLL_WRITE, RW, true],
      [0, RW, true],
      [0, RO, true],
      [FOLL_WRITE, RO, false], // a R/W pin of a read-only PTE needs the slow path (and fails there)
    ] as const) {
      const order: string[] = [];
      let mm: MmStruct | undefined;
      let addr = 0;
      let holdAt = -1;
      const body = (schedule: { step: number; task: number }[]) =>
        kernel(
          {
            T0: function* () {
              const m = yield* mapped(1, prot);
              mm = m.mm;
              addr = m.addr;
              yield* load(mm, addr);
              yield* mmap_write_lock(mm);
              holdAt = currentStep();
              yield 'holding mmap_lock for write';
              order.push('T0 unlocks');
              yield* mmap_write_unlock(mm);
            },
            T1: function* () {
              const r = yield* pin_user_pages_fast(mm!, addr, flags);
              order.push(typeof r === 'object' ? 'T1 pinned' : `T1 got ${r}`);
              if (typeof r === 'object') unpin_user_page(r);
            },
          },
          { schedule },
        );
      body([]);
      order.length = 0;
      const r = body([{ step: holdAt + 1, task: 1 }]);
      assert.equal(r.violation, undefined, r.violation?.message);
      if (fastOk) assert.deepEqual(order, ['T1 pinned', 'T0 unlocks'], `flags ${flags} prot ${prot}`);
      else assert.equal(order[0], 'T0 unlocks', `flags ${flags} prot ${prot}: the fast path must refuse`);
    }
  });
});
