import assert from 'node:assert/strict';
import type { KGen } from '../../engine/index.ts';
import { dup_mm, mmput } from '../../engine/kernel/fork.ts';
import { machine } from '../../engine/mm/machine.ts';
import { MMF_HAS_PINNED, PG_anon_exclusive, VM_STACK_INCOMPLETE_SETUP, type Folio, type MmStruct } from '../../engine/mm/mm_types.ts';
import { kcompactd_migrate, migrate_folio } from '../../engine/mm/migrate.ts';
import { folio_alloc, folio_get } from '../../engine/mm/page_alloc.ts';
import { PageAnonExclusive } from '../../engine/mm/rmap.ts';
import { RO, folioAt, load, mapped, pteAt, run, store } from './harness.ts';

function* migrate(f: Folio): KGen<boolean> {
  folio_get(f); // the isolation reference, which migrate_folio drops
  return yield* migrate_folio(f);
}

const present = (mm: MmStruct, a: number) => pteAt(mm, a) as { kind: string; pfn: number; write: boolean; dirty: boolean };

/** Migration moves a page to a new frame and puts back PTEs with the bits the migration entries kept. */
describe('mutation: migration keeps write, dirty and exclusive bits (migrate.ts)', () => {
  it('a written page: moved, writable, dirty, exclusive; the old frame is freed', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      const index = f.index;
      const free = machine().mem.nr_free();
      assert.equal(yield* migrate(f), true);
      const g = folioAt(mm, addr);
      assert.notEqual(g, f);
      assert.deepEqual(present(mm, addr), { kind: 'present', pfn: g.pfn, write: true, dirty: true, protnone: false });
      assert.ok(PageAnonExclusive(g));
      assert.deepEqual([g._mapcount, g._refcount, g.index, g.mapping], [1, 1, index, mm.mmap[0]!.anon_vma]);
      assert.equal(machine().mem.nr_free(), free, 'one frame in, one out');
      assert.equal(yield* load(mm, addr), 5);
    });
  });

  it('a read-only exclusive page stays read-only and exclusive; a page shared by fork stays shared and read-only in both', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1, RO);
      yield* load(mm, addr);
      assert.equal(yield* migrate(folioAt(mm, addr)), true);
      const g = folioAt(mm, addr);
      assert.equal(present(mm, addr).write, false);
      assert.equal(present(mm, addr).dirty, false);
      assert.ok(PageAnonExclusive(g));
    });
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      const f = folioAt(mm, addr);
      assert.equal(yield* migrate(f), true);
      const g = folioAt(mm, addr);
      assert.equal(folioAt(child, addr), g);
      assert.equal(g._mapcount, 2);
      assert.ok(!PageAnonExclusive(g));
      assert.equal(present(mm, addr).write, false);
      assert.equal(present(child, addr).write, false);
      yield* store(child, addr, 6);
      assert.equal(yield* load(mm, addr), 5);
      yield* mmput(child);
    });
  });

  it('does not migrate a pinned page, an unmapped or non-anon folio, or without a free frame', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      mm.flags |= MMF_HAS_PINNED;
      f._pincount++;
      f._refcount++;
      assert.equal(yield* migrate(f), false);
      assert.equal(folioAt(mm, addr), f);
      assert.deepEqual(present(mm, addr), { kind: 'present', pfn: f.pfn, write: true, dirty: true, protnone: false }, 'put back as it was');
      assert.equal(f.flags & PG_anon_exclusive, PG_anon_exclusive);
      f._pincount--;
      f._refcount--;
      const lone = folio_alloc()!;
      assert.equal(yield* migrate(lone), false, 'not anon');
      assert.equal(lone._refcount, 1);
    });
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      assert.equal(yield* migrate(f), false, 'no free frame');
      assert.equal(folioAt(mm, addr), f);
      assert.equal(present(mm, addr).write, true);
      assert.equal(yield* load(mm, addr), 5);
    }, { frames: 1 });
  });

  it('kcompactd picks the victim-th mapped anon folio in pfn order, and nothing when there is none', () => {
    run(function* () {
      assert.equal(yield* kcompactd_migrate(0), false, 'nothing to migrate');
      const { mm, addr } = yield* mapped(3);
      for (let i = 0; i < 3; i++) yield* store(mm, addr + i, i + 1);
      const before = [0, 1, 2].map((i) => folioAt(mm, addr + i).pfn);
      assert.equal(yield* kcompactd_migrate(4), true); // 4 % 3 = the second
      const after = [0, 1, 2].map((i) => folioAt(mm, addr + i).pfn);
      assert.equal(after[0], before[0]);
      assert.notEqual(after[1], before[1]);
      assert.equal(after[2], before[2]);
    });
  });

  it("skips exec's temporary stack (VM_STACK_INCOMPLETE_SETUP): the migration is undone", () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      mm.mmap[0]!.vm_flags |= VM_STACK_INCOMPLETE_SETUP;
      assert.equal(yield* migrate(f), false);
      assert.equal(folioAt(mm, addr), f);
      assert.equal(present(mm, addr).write, true);
      mm.mmap[0]!.vm_flags &= ~VM_STACK_INCOMPLETE_SETUP;
      mm.mmap[0]!.vm_flags |= VM_STACK_INCOMPLETE_SETUP & 0x8000; // only one of the two bits: not the temporary stack
      assert.equal(yield* migrate(f), true);
    });
  });
});
