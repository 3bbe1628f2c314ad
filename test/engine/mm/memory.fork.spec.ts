import assert from 'node:assert/strict';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { MMF_HAS_PINNED, mk_pte } from '../../../engine/mm/mm_types.ts';
import { vm_mmap } from '../../../engine/mm/mmap.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { RO, RW, folioAt, load, mapped, pteAt, run, store } from '../harness.ts';
import { EFAULT, ENOMEM, fork } from './memory.setup.ts';

describe('engine/mm/memory: faults, COW and fork (memory.ts, fault.ts)', () => {
  it('fork copies a pinned page instead of sharing it; the copy is writable only in a writable mapping', () => {
    for (const prot of [RW, RO]) {
      run(function* () {
        const { mm, addr } = yield* mapped(2, prot);
        if (prot === RW) yield* store(mm, addr, 6);
        else yield* load(mm, addr);
        yield* load(mm, addr + 1);
        const f = folioAt(mm, addr);
        mm.flags |= MMF_HAS_PINNED;
        f._pincount++;
        f._refcount++;
        const child = yield* fork(mm);
        const c = folioAt(child, addr);
        assert.notEqual(c, f, 'copied');
        assert.deepEqual(c.data, f.data);
        assert.ok(PageAnonExclusive(c) && PageAnonExclusive(f));
        assert.deepEqual(pteAt(child, addr), mk_pte(c.pfn, prot === RW, true));
        assert.equal(pteAt(mm, addr), pteAt(mm, addr), 'the parent keeps its PTE');
        assert.equal((pteAt(mm, addr) as { write: boolean }).write, prot === RW);
        assert.deepEqual([f._mapcount, c._mapcount, c._refcount], [1, 1, 1]);
        assert.equal(c.mapping, child.mmap[0]!.anon_vma);
        // The unpinned neighbour is shared as usual.
        assert.equal(folioAt(child, addr + 1), folioAt(mm, addr + 1));
        yield* mmput(child);
        f._pincount--;
        f._refcount--;
      });
    }
  });

  it('a pinned page in an mm that never pinned (no MMF_HAS_PINNED) is shared', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 6);
      const f = folioAt(mm, addr);
      f._pincount++;
      f._refcount++;
      const child = yield* fork(mm);
      assert.equal(folioAt(child, addr), f);
      yield* mmput(child);
      f._pincount--;
      f._refcount--;
    });
  });

  it('fork out of memory for the copy of a pinned page fails with ENOMEM and leaks nothing', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 6);
      const f = folioAt(mm, addr);
      mm.flags |= MMF_HAS_PINNED;
      f._pincount++;
      f._refcount++;
      const mms = machine().mms.length;
      assert.equal(yield* dup_mm(mm, 'P1'), ENOMEM);
      assert.equal(machine().mms.length, mms, 'the half-built child is gone');
      assert.equal(machine().mem.nr_free(), 0);
      assert.deepEqual([f._mapcount, f._refcount], [1, 2]);
      f._pincount--;
      f._refcount--;
    }, { frames: 1 });
  });

  it('WIPEONFORK: the child gets the VMA without pages or anon_vma; DONTFORK: no VMA at all', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      for (let i = 0; i < 3; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* do_madvise(mm, addr, 1, 'WIPEONFORK'), 0);
      assert.equal(yield* do_madvise(mm, addr + 2, 1, 'DONTFORK'), 0);
      const child = yield* fork(mm);
      assert.equal(child.mmap.length, 2);
      assert.equal(child.mmap[0]!.anon_vma, undefined);
      assert.equal(pteAt(child, addr)!.kind, 'none');
      assert.equal(folioAt(child, addr + 1), folioAt(mm, addr + 1));
      assert.equal(yield* load(child, addr), 0);
      assert.equal(yield* load(child, addr + 2), EFAULT);
      assert.equal(yield* load(mm, addr), 1);
      yield* mmput(child);
    });
  });

  it('fork does not copy page tables of a VMA that never had a page', () => {
    run(function* () {
      const a = yield* mapped(2);
      yield* vm_mmap(a.mm, 2, RO); // read-only: no merge with a's VMA
      yield* store(a.mm, a.addr, 1);
      const child = yield* fork(a.mm);
      assert.equal(child.mmap.length, 2);
      assert.equal(child.mmap[0]!.anon_vma, undefined);
      assert.ok(child.pgd[pmd_index(a.addr)], 'the faulted VMA was copied');
      yield* mmput(child);
    });
  });
});
