import assert from 'node:assert/strict';
import { mmput } from '../../../engine/kernel/fork.ts';
import { PG_anon, mk_pte } from '../../../engine/mm/mm_types.ts';
import { folio_alloc } from '../../../engine/mm/page_alloc.ts';
import { vm_munmap } from '../../../engine/mm/mmap.ts';
import { set_pte_at, pte_offset_map_lock } from '../../../engine/mm/pgtable.ts';
import { spin_unlock } from '../../../engine/locking/spinlock.ts';
import { PVMW_MIGRATION, folio_lock_anon_vma_read, page_vma_mapped_walk, page_vma_mapped_walk_done, rmap_walk, type PageVmaMappedWalk } from '../../../engine/mm/rmap.ts';
import { folioAt, kernel, mapped, run, store, violates } from '../harness.ts';
import { walk, fork, contendedWalk } from './rmap.setup.ts';

describe('engine/mm/rmap: reverse mapping (rmap.ts)', () => {
  it('rmap_walk visits every VMA that maps the folio, parent first; stops when told; skips invalid VMAs', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      yield* store(mm, addr + 1, 1);
      const child = yield* fork(mm);
      const f = folioAt(mm, addr + 1);
      assert.deepEqual(yield* walk(f), [`P0@${addr + 1}`, `P1@${addr + 1}`]);
      assert.deepEqual(yield* walk(f, { stopAfter: 1 }), [`P0@${addr + 1}`]);
      assert.deepEqual(yield* walk(f, { done: () => true }), [`P0@${addr + 1}`]);
      assert.deepEqual(yield* walk(f, { skip: (v) => v.vm_mm === mm }), [`P1@${addr + 1}`]);
      // After COW in the child, the child's copy is found only in the child.
      yield* store(child, addr + 1, 2);
      const g = folioAt(child, addr + 1);
      assert.deepEqual(yield* walk(g), [`P1@${addr + 1}`]);
      // A folio that is no longer mapped has nothing to walk.
      yield* mmput(child);
      assert.deepEqual(yield* walk(f), [`P0@${addr + 1}`]);
      const lone = folio_alloc()!;
      assert.deepEqual(yield* walk(lone), []);
      lone.flags |= PG_anon;
      lone.mapping = mm.mmap[0]!.anon_vma;
      assert.deepEqual(yield* walk(lone), [], 'anon but mapcount 0');
    });
  });

  it('rmap_walk only visits VMAs whose range covers the folio index, at the address vm_start/vm_pgoff give', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(6);
      for (const i of [0, 5]) yield* store(mm, addr + i, i + 1);
      yield* vm_munmap(mm, addr + 2, 2); // two VMAs of one anon_vma: [a, a+2) and [a+4, a+6)
      assert.deepEqual(yield* walk(folioAt(mm, addr)), [`P0@${addr}`]);
      assert.deepEqual(yield* walk(folioAt(mm, addr + 5)), [`P0@${addr + 5}`]);
      // The boundaries: the first and last index of a VMA.
      yield* store(mm, addr + 1, 3);
      yield* store(mm, addr + 4, 4);
      assert.deepEqual(yield* walk(folioAt(mm, addr + 1)), [`P0@${addr + 1}`]);
      assert.deepEqual(yield* walk(folioAt(mm, addr + 4)), [`P0@${addr + 4}`]);
      // A VMA whose pgoff does not match its start (moved): the walk computes the address from both.
      const f = folioAt(mm, addr + 4);
      const vma = mm.mmap.find((v) => v.vm_start === addr + 4)!;
      vma.vm_start -= 1; // as if relocated: index addr+4 now sits at addr+3... pgoff unchanged
      vma.vm_end -= 1;
      assert.deepEqual(yield* walk(f), [`P0@${addr + 3}`]);
      vma.vm_pgoff += 1; // index addr+4 is now before the VMA: not covered
      assert.deepEqual(yield* walk(f), []);
    });
  });

  it('rmap_walk of an unlocked folio is a BUG', () => {
    violates(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      yield* rmap_walk(folioAt(mm, addr), {
        *rmap_one() {
          return true;
        },
      });
    }, 'kernel-bug', /rmap_walk/);
  });

  it('folio_lock_anon_vma_read sleeps on a contended root lock and still returns the anon_vma', () => {
    const first = contendedWalk(undefined);
    assert.equal(first.violation, undefined, first.violation?.message);
    assert.deepEqual(first.seen, ['walked'], 'uncontended');
    const r = contendedWalk(first.holdAt + 1);
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.deepEqual(r.seen, ['slept', 'walked']);
    assert.equal(r.refcount, 1, 'the reference taken to sleep is dropped again');
  });

  it('page_vma_mapped_walk: present PTE of the folio, or with PVMW_MIGRATION a migration entry for it', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      const vma = mm.mmap[0]!;
      const f = folioAt(mm, addr);
      const pv = (address: number, flags = 0, folio = f): PageVmaMappedWalk => ({ folio, vma, address, flags });
      let w = pv(addr);
      assert.equal(yield* page_vma_mapped_walk(w), true);
      assert.ok(w.table && w.table.ptl.owner, 'returns with the PT lock held');
      yield* page_vma_mapped_walk_done(w);
      assert.equal(w.table, undefined);
      assert.ok(!mm.pgd[Math.floor(addr / 16)]!.ptl.owner);
      yield* page_vma_mapped_walk_done(w);
      assert.equal(yield* page_vma_mapped_walk(pv(addr + 1)), false, 'none');
      assert.equal(yield* page_vma_mapped_walk(pv(addr, PVMW_MIGRATION)), false, 'present, but a migration entry was asked for');
      const table = (yield* pte_offset_map_lock(mm, addr))!;
      set_pte_at(table, addr, { kind: 'migration', pfn: f.pfn, mode: 'read' });
      yield* spin_unlock(table.ptl);
      w = pv(addr, PVMW_MIGRATION);
      assert.equal(yield* page_vma_mapped_walk(w), true);
      yield* page_vma_mapped_walk_done(w);
      assert.equal(yield* page_vma_mapped_walk(pv(addr)), false, 'a migration entry is not a present PTE');
      const other = folio_alloc()!;
      assert.equal(yield* page_vma_mapped_walk(pv(addr, PVMW_MIGRATION, other)), false, 'another pfn');
      const t2 = (yield* pte_offset_map_lock(mm, addr))!;
      set_pte_at(t2, addr, mk_pte(f.pfn, true));
      yield* spin_unlock(t2.ptl);
      assert.equal(yield* page_vma_mapped_walk(pv(addr, 0, other)), false, 'present, another pfn');
      assert.equal(yield* page_vma_mapped_walk({ folio: f, vma, address: 16, flags: 0 }), false, 'no page table');
    });
  });
});
