import assert from 'node:assert/strict';
import { currentStep } from '../../../engine/index.ts';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { mk_pte, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { vm_munmap } from '../../../engine/mm/mmap.ts';
import { pte_offset_map_lock, set_pte_at } from '../../../engine/mm/pgtable.ts';
import { load, mapped, pteAt, run, store, kernel, violates } from '../harness.ts';
import { bit_unlock } from '../../../engine/locking/bitlock.ts';
import { spin_unlock } from '../../../engine/locking/spinlock.ts';
import { folio_get, folio_put } from '../../../engine/mm/page_alloc.ts';
import { fork, migrateOut, migrateBack } from './memory.setup.ts';

describe('engine/mm/memory: migration entries and the folio lock (memory.ts)', () => {
  it('a fault on a migration entry sleeps on the folio lock and retries once migration is done', () => {
    let mm: MmStruct | undefined;
    let addr = 0;
    let outAt = -1;
    const got: number[] = [];
    const scenario = (schedule: { step: number; task: number }[]) =>
      kernel(
        {
          T0: function* () {
            const m = yield* mapped(2);
            mm = m.mm;
            addr = m.addr;
            yield* store(mm, addr, 5);
            const f = yield* migrateOut(mm, addr, 'write');
            outAt = currentStep();
            yield 'migrating';
            yield* migrateBack(mm, addr, f, mk_pte(f.pfn, true, true));
          },
          T1: function* () {
            got.push(yield* load(mm!, addr));
          },
        },
        { schedule },
      );
    scenario([]);
    got.length = 0;
    const r = scenario([{ step: outAt + 1, task: 1 }]);
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.deepEqual(got, [5]);
  });

  it('a migration entry whose folio is not locked is a BUG', () => {
    violates(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = yield* migrateOut(mm, addr, 'write');
      yield* bit_unlock(f.lock);
      yield* load(mm, addr);
    }, 'kernel-bug', /migration_entry_wait/);
  });

  it('a fault that finds the migration already undone under the PT lock just retries', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = yield* migrateOut(mm, addr, 'write');
      yield* migrateBack(mm, addr, f, mk_pte(f.pfn, true, true));
      assert.equal(yield* load(mm, addr), 5);
    });
  });

  it('fork copies a migration entry; a writable one becomes readable in both (COW)', () => {
    for (const mode of ['write', 'read-exclusive', 'read'] as const) {
      run(function* () {
        const { mm, addr } = yield* mapped(1);
        yield* store(mm, addr, 5);
        const f = yield* migrateOut(mm, addr, mode);
        folio_get(f);
        const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
        assert.deepEqual(pteAt(mm, addr), { kind: 'migration', pfn: f.pfn, mode: 'read' });
        assert.deepEqual(pteAt(child, addr), { kind: 'migration', pfn: f.pfn, mode: 'read' });
        if (mode === 'read') assert.equal(pteAt(mm, addr), pteAt(child, addr), 'a read entry is copied as it is');
        // Undo by hand: the child's entry goes, the parent gets its page back.
        const t = (yield* pte_offset_map_lock(child, addr))!;
        set_pte_at(t, addr, { kind: 'none' });
        yield* spin_unlock(t.ptl);
        yield* migrateBack(mm, addr, f, mk_pte(f.pfn, false, true));
        assert.equal(yield* load(mm, addr), 5);
        yield* mmput(child);
        folio_put(f);
      });
    }
  });

  it('zap drops a migration entry without touching the folio rmap', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 5);
      yield* store(mm, addr + 1, 6);
      const f = yield* migrateOut(mm, addr, 'write');
      folio_get(f);
      assert.equal(yield* vm_munmap(mm, addr, 2), 0);
      assert.equal(f._mapcount, 0);
      assert.equal(f._refcount, 2, 'the zap put no reference for a migration entry');
      yield* bit_unlock(f.lock);
      folio_put(f);
      folio_put(f);
    });
  });
});
