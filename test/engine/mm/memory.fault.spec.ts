import assert from 'node:assert/strict';
import { mmput } from '../../../engine/kernel/fork.ts';
import { handle_mm_fault } from '../../../engine/mm/memory.ts';
import { FAULT_FLAG_WRITE, PG_anon, PG_anon_exclusive, PG_dirty, VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_SHARED, mk_pte } from '../../../engine/mm/mm_types.ts';
import { mmap_read_lock, mmap_read_unlock } from '../../../engine/mm/mmap_lock.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { RO, RW, folioAt, load, mapped, pteAt, run, store } from '../harness.ts';
import { EFAULT, ENOMEM, fork } from './memory.setup.ts';

describe('engine/mm/memory: faults, COW and fork (memory.ts, fault.ts)', () => {
  it('a read fault in a rw mapping maps a zeroed, writable, exclusive anon page at its linear index', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      assert.equal(yield* load(mm, addr + 1), 0);
      assert.deepEqual(pteAt(mm, addr + 1), mk_pte(folioAt(mm, addr + 1).pfn, true, true));
      const f = folioAt(mm, addr + 1);
      const vma = mm.mmap[0]!;
      assert.equal(f.flags & (PG_anon | PG_anon_exclusive), PG_anon | PG_anon_exclusive);
      assert.deepEqual([f._mapcount, f._refcount, f.index, f.mapping], [1, 1, vma.vm_pgoff + 1, vma.anon_vma]);
      assert.ok(vma.anon_vma);
      assert.equal(pteAt(mm, addr), mm.pgd[pmd_index(addr)]!.ptes[addr % 16]);
      assert.equal(pteAt(mm, addr)!.kind, 'none', 'only the touched page is faulted in');
    });
  });

  it('a read fault in a read-only mapping maps the page read-only and clean; writes fault with EFAULT', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2, RO);
      assert.equal(yield* load(mm, addr), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, false, false));
      assert.equal(yield* store(mm, addr, 5), EFAULT);
      assert.equal(yield* store(mm, addr + 1, 5), EFAULT);
      assert.equal(pteAt(mm, addr + 1)!.kind, 'none');
      assert.equal(yield* load(mm, addr), 0);
    });
  });

  it('accesses outside any mapping, or to PROT_NONE, are EFAULT', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2, 0);
      assert.equal(yield* load(mm, addr), EFAULT);
      assert.equal(yield* store(mm, addr, 1), EFAULT);
      assert.equal(yield* load(mm, addr + 2), EFAULT, 'above the mapping');
      assert.equal(yield* load(mm, addr - 1), EFAULT, 'just below the mapping: find_vma finds it, but it starts higher');
      assert.equal(yield* load(mm, -1), EFAULT);
    });
  });

  it('a store marks the page and the PTE dirty, also through a writable clean PTE', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1, RO);
      assert.equal(yield* load(mm, addr), 0);
      assert.equal(yield* sys_mprotect(mm, addr, 1, RW), 0);
      // An exclusive page is made writable in place, still clean.
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, true, false));
      assert.equal(folioAt(mm, addr).flags & PG_dirty, 0);
      assert.equal(yield* store(mm, addr, 9), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, true, true));
      assert.equal(folioAt(mm, addr).flags & PG_dirty, PG_dirty);
      assert.equal(yield* load(mm, addr), 9);
    });
  });

  it('a write fault on a present writable clean PTE (a raced fault) just marks it dirty', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1, RO);
      yield* load(mm, addr);
      yield* sys_mprotect(mm, addr, 1, RW);
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, FAULT_FLAG_WRITE), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, true, true));
      // A read fault on it changes nothing.
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, 0), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, true, true));
      yield* mmap_read_unlock(mm);
    });
  });

  it('a read fault on a read-only PTE of a rw mapping leaves it read-only', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      const child = yield* fork(mm);
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, 0), 0);
      yield* mmap_read_unlock(mm);
      assert.equal((pteAt(mm, addr) as { write: boolean }).write, false);
      yield* mmput(child);
    });
  });

  it('a shared mapping has no anonymous pages: SIGBUS', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      mm.mmap[0]!.vm_flags |= VM_SHARED;
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, 0), VM_FAULT_SIGBUS);
      yield* mmap_read_unlock(mm);
      assert.equal(yield* load(mm, addr), EFAULT);
    });
  });

  it('out of memory: the faulting access gets ENOMEM and nothing is mapped', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      // One frame: the page table does not take one; the first page does.
      assert.equal(yield* store(mm, addr, 1), 0);
      assert.equal(yield* store(mm, addr + 1, 2), ENOMEM);
      assert.equal(pteAt(mm, addr + 1)!.kind, 'none');
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr + 2, 0), VM_FAULT_OOM);
      yield* mmap_read_unlock(mm);
    }, { frames: 1 });
  });
});
