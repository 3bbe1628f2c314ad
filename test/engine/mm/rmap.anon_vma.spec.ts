import assert from 'node:assert/strict';
import { mmput } from '../../../engine/kernel/fork.ts';
import { AnonVma, AnonVmaChain, MmStruct, VmArea } from '../../../engine/mm/mm_types.ts';
import { kobject_freed } from '../../../engine/mm/kasan.ts';
import { __split_vma, vma_link, vm_munmap } from '../../../engine/mm/mmap.ts';
import { MREMAP_FIXED, MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from '../../../engine/mm/mmap_lock.ts';
import { anon_vma_interval_tree_pre_update_vma, anon_vma_prepare, unlink_anon_vmas } from '../../../engine/mm/rmap.ts';
import { explore, folioAt, kernel, mapped, run, store, violates } from '../harness.ts';
import { RWFLAGS, walk, fork } from './rmap.setup.ts';

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
