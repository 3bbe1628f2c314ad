import assert from 'node:assert/strict';
import { valueOf } from '../../../engine/program/history.ts';
import { Replay, type KGen } from '../../../engine/index.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { describeViolation, reads, runChecked } from '../../helpers/run.ts';
import { interleaving, rec } from '../../helpers/scenario.ts';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { MMF_HAS_PINNED, PG_anon_exclusive, VM_STACK_INCOMPLETE_SETUP, type Folio, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { kcompactd_migrate, migrate_folio } from '../../../engine/mm/migrate.ts';
import { folio_alloc, folio_get } from '../../../engine/mm/page_alloc.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { RO, folioAt, load, mapped, pteAt, run, store } from '../harness.ts';

const mmap = (pages = 1): Op => ({ op: 'mmap', region: 0, pages, prot: 'rw' });
const w = (page: number, value: number, word = 0): Op => ({ op: 'write', region: 0, page, word, value });
const r = (page: number, word = 0): Op => ({ op: 'read', region: 0, page, word });
const migrate = (victim = 0): Op => ({ op: 'migrate', victim });

const seq = (p: Program) => {
  const res = runChecked(p, new Replay([]));
  assert.equal(res.violation, undefined, describeViolation(res));
  return res;
};

function* migrateFolio(f: Folio): KGen<boolean> {
  folio_get(f); // the isolation reference, which migrate_folio drops
  return yield* migrate_folio(f);
}

const present = (mm: MmStruct, a: number) => pteAt(mm, a) as { kind: string; pfn: number; write: boolean; dirty: boolean };

/** Migration moves a page to a new frame and puts back PTEs with the bits the migration entries kept. */

describe('engine/mm: migration (seed 000)', () => {
  it('moves a page to a new frame and keeps its contents and its write access', () => {
    const res = seq({ processes: [{ threads: [[mmap(), w(0, 5), w(0, 6, 1), migrate(), r(0), r(0, 1), w(0, 7), r(0)]] }] });
    assert.equal(rec(res, 'P0.T0', 3).result, 1, 'migration should succeed');
    assert.deepEqual(reads(res, 'P0.T0'), [5, 6, 7]);
  });

  it('a pinned page is not migrated, and the pin stays coherent', () => {
    const res = seq({
      processes: [{ threads: [[mmap(), w(0, 1), { op: 'pin', pin: 0, region: 0, page: 0, write: true, fast: false, longterm: true }, migrate(), w(0, 2), { op: 'pinRead', pin: 0, word: 0 }]] }],
    });
    assert.equal(rec(res, 'P0.T0', 3).result, 0);
    assert.equal(valueOf(rec(res, 'P0.T0', 5)), 2);
  });

  it('a page shared by fork migrates for both processes, which stay COW-isolated', () => {
    const res = seq({
      processes: [
        { threads: [[mmap(), w(0, 1), { op: 'fork', child: 1 }, migrate(), w(0, 2), r(0)]] },
        { threads: [[r(0), w(0, 3), r(0)]] },
      ],
    });
    assert.equal(rec(res, 'P0.T0', 3).result, 1);
    assert.deepEqual(reads(res, 'P0.T0'), [2]);
    assert.deepEqual(reads(res, 'P1.T0'), [1, 3]);
  });

  it('migration racing exec, fork, mremap and munmap leaves no migration entry behind', () => {
    const p: Program = {
      processes: [
        {
          threads: [
            [mmap(2), w(0, 1), w(1, 2), { op: 'fork', child: 1 }, { op: 'mremap', region: 0, pages: 3, maymove: true }, r(0), { op: 'munmap', region: 0, page: 1, pages: 1 }],
            [{ op: 'exec', region: 2, args: 2 }, { op: 'read', region: 2, page: 0, word: 0 }],
          ],
        },
        { threads: [[r(0), w(1, 3)]] },
      ],
      kthreads: [[migrate(0), migrate(1), migrate(2), migrate(3)]],
    };
    assert.throws(() => interleaving(p, () => false, 300), /no interleaving/);
  });
});

describe('engine/mm/migrate: migration keeps write, dirty and exclusive bits (migrate.ts)', () => {
  it('a written page: moved, writable, dirty, exclusive; the old frame is freed', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      const index = f.index;
      const free = machine().mem.nr_free();
      assert.equal(yield* migrateFolio(f), true);
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
      assert.equal(yield* migrateFolio(folioAt(mm, addr)), true);
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
      assert.equal(yield* migrateFolio(f), true);
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
      assert.equal(yield* migrateFolio(f), false);
      assert.equal(folioAt(mm, addr), f);
      assert.deepEqual(present(mm, addr), { kind: 'present', pfn: f.pfn, write: true, dirty: true, protnone: false }, 'put back as it was');
      assert.equal(f.flags & PG_anon_exclusive, PG_anon_exclusive);
      f._pincount--;
      f._refcount--;
      const lone = folio_alloc()!;
      assert.equal(yield* migrateFolio(lone), false, 'not anon');
      assert.equal(lone._refcount, 1);
    });
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      assert.equal(yield* migrateFolio(f), false, 'no free frame');
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
      assert.equal(yield* migrateFolio(f), false);
      assert.equal(folioAt(mm, addr), f);
      assert.equal(present(mm, addr).write, true);
      mm.mmap[0]!.vm_flags &= ~VM_STACK_INCOMPLETE_SETUP;
      mm.mmap[0]!.vm_flags |= VM_STACK_INCOMPLETE_SETUP & 0x8000; // only one of the two bits: not the temporary stack
      assert.equal(yield* migrateFolio(f), true);
    });
  });
});
