import assert from 'node:assert/strict';
import { currentStep, type KGen } from '../../../engine/index.ts';
import { bit_lock, bit_unlock } from '../../../engine/locking/bitlock.ts';
import { down_write, up_read, up_write } from '../../../engine/locking/rwsem.ts';
import { dup_mm, mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { AnonVma, AnonVmaChain, Folio, MMF_HAS_PINNED, MmStruct, PG_anon, PG_anon_exclusive, PG_locked, VmArea, VM_MAYWRITE, VM_READ, VM_WRITE, mk_pte } from '../../../engine/mm/mm_types.ts';
import { kobject_freed } from '../../../engine/mm/kasan.ts';
import { folio_alloc } from '../../../engine/mm/page_alloc.ts';
import { __split_vma, vma_link, vm_munmap } from '../../../engine/mm/mmap.ts';
import { MREMAP_FIXED, MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from '../../../engine/mm/mmap_lock.ts';
import { set_pte_at, pte_offset_map_lock } from '../../../engine/mm/pgtable.ts';
import { spin_unlock } from '../../../engine/locking/spinlock.ts';
import { PVMW_MIGRATION, anon_vma_interval_tree_pre_update_vma, anon_vma_prepare, folio_add_anon_rmap_pte, folio_add_new_anon_rmap, folio_lock_anon_vma_read, folio_maybe_dma_pinned, folio_move_anon_rmap, folio_needs_cow_for_dma, folio_remove_rmap_pte, folio_try_dup_anon_rmap_pte, folio_try_share_anon_rmap_pte, linear_page_index, page_vma_mapped_walk, page_vma_mapped_walk_done, rmap_walk, unlink_anon_vmas, type PageVmaMappedWalk } from '../../../engine/mm/rmap.ts';
import { explore, folioAt, kernel, mapped, run, store, violates } from '../harness.ts';

const RWFLAGS = VM_READ | VM_WRITE | VM_MAYWRITE;

/** Every (vma owner, address) rmap_walk visits for the folio, in order. */
function* walk(folio: Folio, o: { stopAfter?: number; skip?: (v: VmArea) => boolean; done?: () => boolean } = {}): KGen<string[]> {
  const seen: string[] = [];
  yield* bit_lock(folio.lock);
  yield* rmap_walk(folio, {
    *rmap_one(_f, vma, address) {
      seen.push(`${vma.vm_mm.owner}@${address}`);
      return o.stopAfter === undefined || seen.length < o.stopAfter;
    },
    invalid_vma: o.skip,
    done: o.done,
  });
  yield* bit_unlock(folio.lock);
  return seen;
}

function* fork(mm: MmStruct, owner = 'P1'): KGen<MmStruct> {
  const c = yield* dup_mm(mm, owner);
  assert.equal(typeof c, 'object');
  return c as MmStruct;
}


/**
 * T0 maps a page and holds its anon_vma lock for write across a yield; T1
 * then locks the folio and asks for its anon_vma. Without a switch T1 runs
 * after T0; with a switch to T1 right after T0 took the lock, T1's trylock
 * fails and it sleeps on the lock.
 */
function contendedWalk(switchAt: number | undefined): { violation: { message: string } | undefined; seen: string[]; holdAt: number; refcount: number } {
  const seen: string[] = [];
  let folio: Folio | undefined;
  let av: AnonVma | undefined;
  let holdAt = -1;
  const r = kernel(
    {
      T0: function* () {
        const { mm, addr } = yield* mapped(3);
        yield* store(mm, addr, 1);
        folio = folioAt(mm, addr);
        av = mm.mmap[0]!.anon_vma!;
        yield* down_write(av.root.rwsem);
        holdAt = currentStep();
        yield 'holding the anon_vma lock';
        yield* up_write(av.root.rwsem);
      },
      T1: function* () {
        yield* bit_lock(folio!.lock);
        const contended = av!.root.rwsem.isLocked();
        const got = yield* folio_lock_anon_vma_read(folio!);
        if (contended) seen.push('slept');
        if (got) {
          assert.equal(got, av);
          seen.push('walked');
          yield* up_read(got.root.rwsem);
        }
        yield* bit_unlock(folio!.lock);
      },
    },
    { schedule: switchAt === undefined ? [] : [{ step: switchAt, task: 1 }] },
  );
  return { violation: r.violation, seen, holdAt, refcount: av?.refcount ?? -1 };
}

describe('engine/mm/rmap: reverse mapping (rmap.ts)', () => {
  it('anon_vma_prepare: one anon_vma, rooted at itself, linked once; a second call changes nothing', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      const vma = mm.mmap[0]!;
      yield* mmap_read_lock(mm); // __anon_vma_prepare() asserts it
      assert.equal(yield* anon_vma_prepare(vma), 0);
      const av = vma.anon_vma!;
      assert.deepEqual([av.root === av, av.parent === av, av.refcount, av.num_active_vmas, av.num_children], [true, true, 1, 1, 0]);
      assert.deepEqual(vma.anon_vma_chain.map((c) => c.anon_vma), [av]);
      assert.deepEqual(av.rb_root.map((c) => c.vma), [vma]);
      assert.equal(yield* anon_vma_prepare(vma), 0);
      assert.equal(vma.anon_vma, av);
      assert.equal(vma.anon_vma_chain.length, 1);
      yield* mmap_read_unlock(mm);
      void addr;
    });
  });

  it('anon_vma_prepare racing with itself: one wins, the loser frees its anon_vma and AVC', () => {
    let runs = 0;
    explore(
      () => {
        const mm = new MmStruct('P0');
        const vma = new VmArea(mm, 10, 12, 10, RWFLAGS);
        vma_link(mm, vma);
        return { mm, vma, got: [] as AnonVma[] };
      },
      (c) => ({
        T0: function* () {
          yield* mmap_read_lock(c.mm);
          yield* anon_vma_prepare(c.vma);
          c.got.push(c.vma.anon_vma!);
          yield* mmap_read_unlock(c.mm);
        },
        T1: function* () {
          yield* mmap_read_lock(c.mm);
          yield* anon_vma_prepare(c.vma);
          c.got.push(c.vma.anon_vma!);
          yield* mmap_read_unlock(c.mm);
        },
      }),
      (r) => {
        runs++;
        assert.equal(r.violation, undefined, r.violation?.message);
        const { vma, got } = r.ctx;
        assert.equal(got[0], got[1]);
        assert.equal(vma.anon_vma_chain.length, 1);
        assert.equal(vma.anon_vma!.rb_root.length, 1);
        assert.ok(!kobject_freed(vma.anon_vma!));
      },
      { maxStep: 16, backAndForth: true },
    );
    assert.ok(runs > 100);
  });

  it('fork: the child VMA links to the parent anon_vma and gets its own, rooted at the parent root; exit undoes it', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      const pvma = mm.mmap[0]!;
      const pav = pvma.anon_vma!;
      const child = yield* fork(mm);
      const cvma = child.mmap[0]!;
      const cav = cvma.anon_vma!;
      assert.notEqual(cav, pav);
      assert.deepEqual([cav.root, cav.parent, pav.num_children, pav.refcount, cav.refcount, cav.num_active_vmas, pav.num_active_vmas], [pav, pav, 1, 2, 1, 1, 1]);
      assert.deepEqual(cvma.anon_vma_chain.map((a) => a.anon_vma), [cav, pav], 'newest first');
      assert.deepEqual(pav.rb_root.map((a) => a.vma), [pvma, cvma]);
      assert.deepEqual(cav.rb_root.map((a) => a.vma), [cvma]);
      // A grandchild chains through both.
      const grand = yield* fork(child, 'P2');
      const gvma = grand.mmap[0]!;
      assert.equal(gvma.anon_vma_chain.length, 3);
      assert.equal(gvma.anon_vma!.root, pav);
      assert.equal(gvma.anon_vma!.parent, cav);
      assert.equal(pav.refcount, 3);
      assert.equal(cav.num_children, 1);
      yield* mmput(grand);
      assert.deepEqual([pav.refcount, cav.num_children, pav.rb_root.length, cav.rb_root.length], [2, 0, 2, 1]);
      yield* mmput(child);
      const after = [pav.refcount, pav.num_children, pav.rb_root.length];
      assert.deepEqual(after, [1, 0, 1], String(after));
      assert.equal(cav.refcount, 0, 'freed (after a grace period)');
      yield* mmput(mm);
      assert.equal(pav.refcount, 0);
    });
  });

  it('the child of a parent whose VMA never had a page gets no anon_vma', () => {
    run(function* () {
      const { mm } = yield* mapped(2);
      const child = yield* fork(mm);
      assert.equal(child.mmap[0]!.anon_vma, undefined);
      assert.equal(child.mmap[0]!.anon_vma_chain.length, 0);
      yield* mmput(child);
    });
  });

  it('a split VMA shares the anon_vma; the interval tree stays sorted by pgoff', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      yield* store(mm, addr, 1);
      const vma = mm.mmap[0]!;
      const av = vma.anon_vma!;
      yield* mmap_write_lock(mm);
      const lower = (yield* __split_vma(vma, addr + 2, true)) as VmArea;
      yield* mmap_write_unlock(mm);
      assert.equal(lower.anon_vma, av);
      assert.equal(av.num_active_vmas, 2);
      assert.deepEqual(av.rb_root.map((c) => c.vma.vm_pgoff), [addr, addr + 2]);
      assert.deepEqual(av.rb_root.map((c) => c.vma), [lower, vma]);
      // Removing the lower half leaves the upper one.
      yield* vm_munmap(mm, addr, 2);
      assert.deepEqual(av.rb_root.map((c) => c.vma), [vma]);
      assert.equal(av.num_active_vmas, 1);
      assert.ok(!kobject_freed(av));
    });
  });

  it('the interval tree keeps AVCs sorted by pgoff, whatever order VMAs join it in', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(6); // [202, 208)
      for (let i = 0; i < 6; i++) yield* store(mm, addr + i, i + 1);
      yield* vm_munmap(mm, addr + 2, 2); // X = [202, 204) pgoff 202, Y = [206, 208) pgoff 206
      const av = mm.mmap[0]!.anon_vma!;
      assert.deepEqual(av.rb_root.map((c) => c.vma.vm_pgoff), [addr, addr + 4]);
      // Move X away: its new VMA (pgoff 202) joins after Y in time, but sorts before it.
      assert.equal(yield* sys_mremap(mm, addr, 2, 2, MREMAP_FIXED | MREMAP_MAYMOVE, 100), 100);
      assert.deepEqual(av.rb_root.map((c) => [c.vma.vm_start, c.vma.vm_pgoff]), [[100, addr], [addr + 4, addr + 4]]);
      assert.deepEqual(yield* walk(folioAt(mm, 100)), ['P0@100']);
    });
  });

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
      assert.equal(folio_try_dup_anon_rmap_pte(f, vma), 0);
      assert.deepEqual([f._mapcount, (f.flags & PG_anon_exclusive) !== 0], [2, false]);
      f._mapcount = 1;
      f.flags |= PG_anon_exclusive;
      mm.flags |= MMF_HAS_PINNED;
      assert.equal(folio_needs_cow_for_dma(vma, f), true);
      assert.equal(folio_try_dup_anon_rmap_pte(f, vma), -16);
      assert.deepEqual([f._mapcount, (f.flags & PG_anon_exclusive) !== 0], [1, true]);
      assert.equal(folio_try_share_anon_rmap_pte(f), -16);
      assert.equal(f.flags & PG_anon_exclusive, PG_anon_exclusive);
      f._pincount = 0;
      assert.equal(folio_needs_cow_for_dma(vma, f), false);
      assert.equal(folio_try_share_anon_rmap_pte(f), 0);
      assert.equal(f.flags & PG_anon_exclusive, 0);
      // A non-exclusive page is shared as it is, pinned or not.
      f._pincount = 1;
      assert.equal(folio_try_dup_anon_rmap_pte(f, vma), 0);
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

  it('the interval tree refuses to remove an AVC that is not in it', () => {
    violates(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      anon_vma_interval_tree_pre_update_vma(mm.mmap[0]!);
      anon_vma_interval_tree_pre_update_vma(mm.mmap[0]!);
    }, 'kernel-bug', /anon_vma_interval_tree_remove/);
  });

  it('unlink_anon_vmas frees an anon_vma only once no VMA uses it, root last', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      const vma = mm.mmap[0]!;
      const av = vma.anon_vma!;
      const extra = new AnonVmaChain(vma, av);
      void extra;
      yield* mmap_write_lock(mm);
      const lower = (yield* __split_vma(vma, addr + 1, true)) as VmArea;
      yield* mmap_write_unlock(mm);
      yield* unlink_anon_vmas(lower);
      assert.equal(lower.anon_vma, undefined);
      assert.equal(lower.anon_vma_chain.length, 0);
      assert.ok(!kobject_freed(av), 'the other VMA still uses it');
      assert.equal(av.num_active_vmas, 1);
      yield* unlink_anon_vmas(vma);
      assert.equal(vma.anon_vma_chain.length, 0);
      assert.equal(av.num_active_vmas, 0);
      assert.equal(av.refcount, 0);
    });
  });
});
