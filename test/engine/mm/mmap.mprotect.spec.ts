import assert from 'node:assert/strict';
import { TASK_SIZE, VM_READ, VM_WRITE } from '../../../engine/mm/mm_types.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { RO, RW, layout, load, mapped, pteAt, run, store } from '../harness.ts';
import { EINVAL, ENOMEM, EFAULT } from './mmap.setup.ts';

describe('engine/mm/mmap: the VMA tree, mmap, munmap, mprotect, madvise (mmap.ts, mprotect.ts, madvise.ts)', () => {
  it('mprotect: splits at the range ends, changes the PTEs, and returns ENOMEM for holes', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* sys_mprotect(mm, addr + 1, 2, RO), 0);
      assert.deepEqual(layout(mm).map((l) => l.slice(0, 2)), [[addr, addr + 1], [addr + 1, addr + 3], [addr + 3, addr + 4]]);
      assert.deepEqual([0, 1, 2, 3].map((i) => (pteAt(mm, addr + i) as { write: boolean }).write), [true, false, false, true]);
      assert.equal(mm.mmap[1]!.vm_flags & (VM_READ | VM_WRITE), VM_READ);
      assert.equal(yield* store(mm, addr + 1, 9), EFAULT);
      assert.equal(yield* sys_mprotect(mm, addr + 1, 2, RW), 0);
      assert.deepEqual([0, 1, 2, 3].map((i) => (pteAt(mm, addr + i) as { write: boolean; dirty: boolean }).write), [true, true, true, true]);
      assert.equal((pteAt(mm, addr + 1) as { dirty: boolean }).dirty, true, 'dirty bit kept');
      assert.deepEqual(layout(mm), [[addr, addr + 4, addr]], 'undone: the pieces merged back (vma_merge_existing_range)');
      assert.equal(yield* sys_mprotect(mm, addr, 4, 0), 0);
      assert.equal(yield* store(mm, addr, 7), EFAULT);
      assert.equal(yield* load(mm, addr + 3), EFAULT, 'PROT_NONE: a faulted page is protnone (mprotect.spec.ts)');
      assert.equal(yield* sys_mprotect(mm, addr, 4, RW), 0);
      assert.equal(yield* load(mm, addr + 3), 4);
      assert.equal(yield* sys_mprotect(mm, addr - 1, 2, RO), ENOMEM, 'hole below');
      assert.equal(yield* sys_mprotect(mm, addr + 3, 2, RO), ENOMEM, 'hole above: the part before it changed');
      assert.equal(mm.mmap.at(-1)!.vm_flags & VM_WRITE, 0);
      assert.equal(yield* sys_mprotect(mm, addr, 0, RO), 0, 'a zero length does nothing');
      assert.equal(yield* sys_mprotect(mm, -1, 1, RO), EINVAL);
      assert.equal(yield* sys_mprotect(mm, TASK_SIZE, 1, RO), ENOMEM, 'beyond TASK_SIZE: nothing mapped there');
      assert.equal(yield* sys_mprotect(mm, addr, 1, RW), 0, 'no change needed');
      // The edges of the address space are valid ranges, just unmapped.
      assert.equal(yield* sys_mprotect(mm, 0, 1, RO), ENOMEM);
      assert.equal(yield* sys_mprotect(mm, TASK_SIZE - 1, 1, RO), ENOMEM);
      assert.ok(!mm.mmap_lock.isLocked());
    });
  });

  it('mprotect of a page table range without pages, and across two page tables', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(20); // spans two PTE tables
      yield* store(mm, addr, 1);
      yield* store(mm, addr + 19, 2);
      assert.equal(yield* sys_mprotect(mm, addr, 20, RO), 0);
      assert.equal((pteAt(mm, addr) as { write: boolean }).write, false);
      assert.equal((pteAt(mm, addr + 19) as { write: boolean }).write, false);
      const { mm: mm2, addr: a2 } = yield* mapped(2);
      assert.equal(yield* sys_mprotect(mm2, a2, 2, RO), 0, 'no page table yet');
      assert.equal(mm2.pgd.filter(Boolean).length, 0);
    });
  });
});
