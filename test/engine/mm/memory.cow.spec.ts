import assert from 'node:assert/strict';
import { currentStep } from '../../../engine/index.ts';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { handle_mm_fault } from '../../../engine/mm/memory.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { FAULT_FLAG_UNSHARE, mk_pte, type MmStruct, type Folio } from '../../../engine/mm/mm_types.ts';
import { mmap_read_lock, mmap_read_unlock } from '../../../engine/mm/mmap_lock.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { RO, RW, folioAt, load, mapped, pteAt, run, store, kernel } from '../harness.ts';
import { bit_lock, bit_unlock } from '../../../engine/locking/bitlock.ts';
import { folio_get, folio_put } from '../../../engine/mm/page_alloc.ts';
import { ENOMEM, fork } from './memory.setup.ts';

describe('engine/mm/memory: faults, COW and fork (memory.ts, fault.ts)', () => {
  it('fork shares anon pages: same pfn, write-protected on both sides, no longer exclusive', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 7);
      const seq = mm.write_protect_seq.sequence;
      const child = yield* fork(mm);
      assert.equal(mm.write_protect_seq.sequence, seq + 2, 'fork wrote its section of write_protect_seq');
      const f = folioAt(mm, addr);
      assert.deepEqual(pteAt(mm, addr), mk_pte(f.pfn, false, true));
      assert.deepEqual(pteAt(child, addr), mk_pte(f.pfn, false, true));
      assert.deepEqual([f._mapcount, f._refcount, PageAnonExclusive(f)], [2, 2, false]);
      assert.equal(pteAt(child, addr + 1), pteAt(mm, addr + 1), 'untouched pages stay none');
      assert.equal(machine().mem.nr_free(), 16 - 1, 'nothing copied');
      // The parent writes: COW gives it a fresh exclusive copy; the child keeps the old page.
      assert.equal(yield* store(mm, addr, 8, 1), 0);
      const g = folioAt(mm, addr);
      assert.notEqual(g.pfn, f.pfn);
      assert.deepEqual(g.data, [7, 8]);
      assert.ok(PageAnonExclusive(g));
      assert.deepEqual(pteAt(mm, addr), mk_pte(g.pfn, true, true));
      assert.deepEqual([f._mapcount, f._refcount], [1, 1]);
      assert.deepEqual(f.data, [7, 0]);
      assert.equal(yield* load(child, addr, 1), 0);
      // The child is now the only user of the old page: its write reuses it.
      assert.equal(yield* store(child, addr, 9), 0);
      assert.equal(folioAt(child, addr), f);
      assert.ok(PageAnonExclusive(f));
      assert.equal(f.mapping, child.mmap[0]!.anon_vma, 'folio_move_anon_rmap: the reused page moves to the child\'s anon_vma');
      assert.deepEqual(pteAt(child, addr), mk_pte(f.pfn, true, true));
      yield* mmput(child);
      assert.equal(machine().mem.nr_free(), 16 - 1);
    });
  });

  it('a read-only mapping is shared at fork without changing its PTEs; the page is reused after the child goes', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1, RO);
      yield* load(mm, addr);
      const before = pteAt(mm, addr);
      const child = yield* fork(mm);
      assert.equal(pteAt(mm, addr), before);
      assert.deepEqual(pteAt(child, addr), before);
      yield* mmput(child);
      yield* sys_mprotect(mm, addr, 1, RW);
      // Not exclusive any more: mprotect may not make it writable; the write fault reuses it.
      assert.equal((pteAt(mm, addr) as { write: boolean }).write, false);
      const f = folioAt(mm, addr);
      assert.equal(yield* store(mm, addr, 3), 0);
      assert.equal(folioAt(mm, addr), f);
    });
  });

  it('COW with a third reference copies even when this mapping is the last', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 4);
      const child = yield* fork(mm);
      const f = folioAt(mm, addr);
      f._refcount++; // somebody (GUP) holds a reference
      yield* mmput(child);
      assert.deepEqual([f._mapcount, f._refcount], [1, 2]);
      assert.equal(yield* store(mm, addr, 5), 0);
      assert.notEqual(folioAt(mm, addr), f, 'not reused: another reference exists');
      assert.deepEqual(f.data, [4, 0]);
      f._refcount--;
    });
  });

  it('an unshare fault on a shared page copies it and maps the copy read-only; on an exclusive page it does nothing', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 4);
      const child = yield* fork(mm);
      const f = folioAt(mm, addr);
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, FAULT_FLAG_UNSHARE), 0);
      const g = folioAt(mm, addr);
      assert.notEqual(g, f);
      assert.ok(PageAnonExclusive(g));
      assert.deepEqual(pteAt(mm, addr), mk_pte(g.pfn, false, false));
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, FAULT_FLAG_UNSHARE), 0);
      assert.equal(folioAt(mm, addr), g);
      assert.deepEqual(pteAt(mm, addr), mk_pte(g.pfn, false, false));
      yield* mmap_read_unlock(mm);
      // The child, now alone on f: unshare reuses it, marking it exclusive, and leaves the PTE read-only.
      yield* mmap_read_lock(child);
      assert.equal(yield* handle_mm_fault(child.mmap[0]!, addr, FAULT_FLAG_UNSHARE), 0);
      yield* mmap_read_unlock(child);
      assert.equal(folioAt(child, addr), f);
      assert.ok(PageAnonExclusive(f));
      assert.equal((pteAt(child, addr) as { write: boolean }).write, false);
      yield* mmput(child);
    });
  });

  it('COW out of memory: the write gets ENOMEM and the shared page stays mapped', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 4);
      const child = yield* fork(mm);
      const f = folioAt(mm, addr);
      assert.equal(yield* store(mm, addr, 5), ENOMEM);
      assert.equal(folioAt(mm, addr), f);
      assert.deepEqual([f._refcount, f._mapcount], [2, 2]);
      yield* mmput(child);
    }, { frames: 1 });
  });
});

describe('engine/mm/memory: COW reuse needs the folio lock (wp_can_reuse_anon_folio)', () => {
  it('a write fault copies a page it would reuse when somebody holds its lock', () => {
    const outcomes = new Set<string>();
    let readyAt = -1;
    const scenario = (schedule: { step: number; task: number }[]) => {
      let f: Folio | undefined;
      let mm: MmStruct | undefined;
      let addr = 0;
      const r = kernel(
        {
          T0: function* () {
            const m = yield* mapped(1);
            mm = m.mm;
            addr = m.addr;
            yield* store(mm, addr, 5);
            const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
            yield* mmput(child);
            f = folioAt(mm, addr);
            assert.ok(!PageAnonExclusive(f));
            folio_get(f); // T1's reference, so that a copy does not free a locked page
            readyAt = currentStep();
            yield 'ready';
            yield* store(mm, addr, 6);
            outcomes.add(folioAt(mm, addr) === f ? 'reused' : 'copied');
          },
          T1: function* () {
            const g = f!;
            yield* bit_lock(g.lock);
            yield 'holding the folio lock';
            yield* bit_unlock(g.lock);
            folio_put(g);
          },
        },
        { schedule },
      );
      assert.equal(r.violation, undefined, r.violation?.message);
    };
    scenario([]);
    for (let d = 1; d <= 4; d++) scenario([{ step: readyAt + 1, task: 1 }, { step: readyAt + 1 + d, task: 0 }]);
    assert.ok(outcomes.has('copied'), 'with the lock held elsewhere the fault copies');
  });
});
