import assert from 'node:assert/strict';
import { bit_lock, bit_unlock } from '../../../engine/locking/bitlock.ts';
import { mm_alloc } from '../../../engine/kernel/fork.ts';
import { MMF_HAS_PINNED, PG_anon, PG_anon_exclusive, PG_locked, VmArea } from '../../../engine/mm/mm_types.ts';
import { folio_alloc } from '../../../engine/mm/page_alloc.ts';
import { folio_add_anon_rmap_pte, folio_add_new_anon_rmap, folio_maybe_dma_pinned, folio_move_anon_rmap, folio_needs_cow_for_dma, folio_remove_rmap_pte, folio_try_dup_anon_rmap_pte, folio_try_share_anon_rmap_pte, linear_page_index } from '../../../engine/mm/rmap.ts';
import { folioAt, kernel, mapped, run, store, violates } from '../harness.ts';
import { RWFLAGS } from './rmap.setup.ts';

describe('engine/mm/rmap: reverse mapping (rmap.ts)', () => {
  it('folio_add_anon_rmap_pte: maps an anon folio again, checks it belongs here, and can restore exclusivity', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      const vma = mm.mmap[0]!;
      const f = folio_alloc()!;
      f.flags |= PG_anon;
      f.mapping = vma.anon_vma;
      f.index = linear_page_index(vma, addr + 1);
      yield* bit_lock(f.lock);
      folio_add_anon_rmap_pte(f, vma, addr + 1, false);
      assert.equal(f.flags, PG_anon | PG_locked, 'no other flag appears');
      assert.equal(f._mapcount, 1);
      folio_add_anon_rmap_pte(f, vma, addr + 1, true);
      assert.equal(f.flags, PG_anon | PG_locked | PG_anon_exclusive);
      assert.equal(f._mapcount, 2);
      yield* bit_unlock(f.lock);
      f._mapcount = 0;
    });
    const misfit = (what: 'unlocked' | 'index' | 'root' | 'no anon_vma') =>
      function* () {
        const { mm, addr } = yield* mapped(2);
        yield* store(mm, addr, 1);
        const other = yield* mapped(1, undefined, 'P9');
        yield* store(other.mm, other.addr, 1);
        const f = folioAt(mm, addr);
        if (what !== 'unlocked') yield* bit_lock(f.lock);
        if (what === 'unlocked') folio_add_anon_rmap_pte(f, mm.mmap[0]!, addr, false);
        if (what === 'index') folio_add_anon_rmap_pte(f, mm.mmap[0]!, addr + 1, false);
        if (what === 'root') folio_add_anon_rmap_pte(f, other.mm.mmap[0]!, other.addr, false);
        if (what === 'no anon_vma') folio_add_anon_rmap_pte(f, new VmArea(mm, addr, addr + 1, addr, RWFLAGS), addr, false);
      };
    violates(misfit('unlocked'), 'kernel-bug', /folio_add_anon_rmap_pte/);
    violates(misfit('index'), 'kernel-bug', /__page_check_anon_rmap.*index/);
    violates(misfit('root'), 'kernel-bug', /__page_check_anon_rmap.*root/);
    violates(misfit('no anon_vma'), 'kernel-bug', /__page_check_anon_rmap/);
  });

  it('folio_add_new_anon_rmap, folio_remove_rmap_pte, folio_move_anon_rmap: their BUG_ONs', () => {
    violates(function* () {
      const mm = mm_alloc('P0');
      folio_add_new_anon_rmap(folio_alloc()!, new VmArea(mm, 1, 2, 1, RWFLAGS), 1, true);
      yield 'x';
    }, 'kernel-bug', /folio_add_new_anon_rmap.*no anon_vma/);
    violates(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      const f = folio_alloc()!;
      f._mapcount = 1;
      folio_add_new_anon_rmap(f, mm.mmap[0]!, addr, true);
    }, 'kernel-bug', /folio_add_new_anon_rmap.*already mapped/);
    violates(function* () {
      const { mm } = yield* mapped(1);
      folio_remove_rmap_pte(folio_alloc()!, mm.mmap[0]!);
    }, 'kernel-bug', /folio_remove_rmap_pte/);
    violates(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      folio_move_anon_rmap(folioAt(mm, addr), mm.mmap[0]!);
    }, 'kernel-bug', /folio_move_anon_rmap/);
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      const f = folioAt(mm, addr);
      f._mapcount = 2;
      folio_remove_rmap_pte(f, mm.mmap[0]!);
      folio_remove_rmap_pte(f, mm.mmap[0]!);
      assert.equal(f._mapcount, 0);
      f._mapcount = 1;
    });
  });

  it('pins: try_dup refuses a pinned exclusive page of an mm that pinned; try_share refuses any pinned page', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      const vma = mm.mmap[0]!;
      const f = folioAt(mm, addr);
      assert.equal(folio_maybe_dma_pinned(f), false);
      f._pincount = 1;
      assert.equal(folio_maybe_dma_pinned(f), true);
      assert.equal(folio_needs_cow_for_dma(vma, f), false, 'the mm never pinned');
      assert.equal(folio_try_dup_anon_rmap_pte(f, vma, vma), 0);
      assert.deepEqual([f._mapcount, (f.flags & PG_anon_exclusive) !== 0], [2, false]);
      f._mapcount = 1;
      f.flags |= PG_anon_exclusive;
      mm.flags |= MMF_HAS_PINNED;
      assert.equal(folio_needs_cow_for_dma(vma, f), true);
      assert.equal(folio_try_dup_anon_rmap_pte(f, vma, vma), -16);
      assert.deepEqual([f._mapcount, (f.flags & PG_anon_exclusive) !== 0], [1, true]);
      assert.equal(folio_try_share_anon_rmap_pte(f), -16);
      assert.equal(f.flags & PG_anon_exclusive, PG_anon_exclusive);
      f._pincount = 0;
      assert.equal(folio_needs_cow_for_dma(vma, f), false);
      assert.equal(folio_try_share_anon_rmap_pte(f), 0);
      assert.equal(f.flags & PG_anon_exclusive, 0);
      // A non-exclusive page is shared as it is, pinned or not.
      f._pincount = 1;
      assert.equal(folio_try_dup_anon_rmap_pte(f, vma, vma), 0);
      assert.equal(f._mapcount, 2);
      f._mapcount = 1;
      f._pincount = 0;
    });
    violates(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      const f = folioAt(mm, addr);
      f.flags &= ~PG_anon_exclusive;
      folio_try_share_anon_rmap_pte(f);
    }, 'kernel-bug', /folio_try_share_anon_rmap_pte/);
  });
});
