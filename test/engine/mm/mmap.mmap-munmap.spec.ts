import assert from 'node:assert/strict';
import { dup_mm, mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { MMAP_BASE, TASK_SIZE, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from '../../../engine/mm/mm_types.ts';
import { do_vmi_munmap, vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { mmap_write_lock, mmap_write_unlock } from '../../../engine/mm/mmap_lock.ts';
import { RO, RW, layout, load, mapped, pteAt, run, store } from '../harness.ts';
import { EINVAL, ENOMEM } from './mmap.setup.ts';

describe('engine/mm/mmap: the VMA tree, mmap, munmap, mprotect, madvise (mmap.ts, mprotect.ts, madvise.ts)', () => {
  it('mmap: EINVAL for no pages or more than the address space, ENOMEM when no gap is left', () => {
    run(function* () {
      const mm = mm_alloc('P0');
      assert.equal(yield* vm_mmap(mm, 0, RW), EINVAL);
      assert.equal(yield* vm_mmap(mm, TASK_SIZE + 1, RW), EINVAL);
      assert.equal(yield* vm_mmap(mm, MMAP_BASE, RW), ENOMEM);
      assert.equal(yield* vm_mmap(mm, MMAP_BASE - 1, RW), 1);
      const vma = mm.mmap[0]!;
      assert.equal(vma.vm_lock_seq + 1, mm.mm_lock_seq, 'born write-locked in the mmap_lock section that made it');
      assert.equal(yield* vm_mmap(mm, 1, RW), ENOMEM);
      assert.equal(vma.vm_flags, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE);
      assert.equal(vma.vm_pgoff, 1);
    });
  });

  it('mmap merges with the VMA below it only when flags, pgoff and anon_vma allow', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4); // [204, 208)
      assert.equal(yield* vm_munmap(mm, addr + 2, 2), 0); // [204, 206)
      assert.equal(yield* vm_mmap(mm, 2, RW), addr + 2);
      assert.deepEqual(layout(mm), [[addr, addr + 4, addr]], 'merged');
      assert.equal(yield* vm_munmap(mm, addr + 2, 2), 0);
      assert.equal(yield* vm_mmap(mm, 2, RO), addr + 2);
      assert.equal(mm.mmap.length, 2, 'other flags: not merged');
      assert.equal(yield* vm_munmap(mm, addr + 2, 2), 0);
      // prev with an inherited anon_vma chain (a forked VMA) cannot extend over fresh memory.
      yield* store(mm, addr, 1);
      const child = (yield* dup_mm(mm, 'P1')) as typeof mm;
      assert.equal(yield* vm_mmap(child, 2, RW), addr + 2);
      assert.equal(child.mmap.length, 2);
      // ... but the parent's own VMA (one AVC) can.
      assert.equal(yield* vm_mmap(mm, 2, RW), addr + 2);
      assert.equal(mm.mmap.length, 1);
      yield* mmput(child);
    });
  });

  it('munmap: EINVAL for a bad range; nothing mapped there is fine', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      assert.equal(yield* vm_munmap(mm, addr, 0), EINVAL);
      assert.equal(yield* vm_munmap(mm, -1, 2), EINVAL);
      assert.equal(yield* vm_munmap(mm, TASK_SIZE - 1, 2), EINVAL);
      assert.equal(yield* vm_munmap(mm, TASK_SIZE - 2, 2), 0);
      assert.equal(yield* vm_munmap(mm, 0, 1), 0);
      assert.equal(yield* vm_munmap(mm, addr - 3, 3), 0, 'just below');
      assert.equal(yield* vm_munmap(mm, addr + 2, 3), 0, 'just above');
      assert.deepEqual(layout(mm), [[addr, addr + 2, addr]]);
      assert.equal(yield* vm_munmap(mm, addr - 3, 4), 0, 'overlapping the bottom page');
      assert.deepEqual(layout(mm), [[addr + 1, addr + 2, addr + 1]]);
      assert.ok(!mm.mmap_lock.isLocked());
    });
  });

  it('munmap across several VMAs splits both ends and removes what is between', () => {
    run(function* () {
      const mm = mm_alloc('P0');
      const a = yield* vm_mmap(mm, 3, RW); // [205, 208)
      const b = yield* vm_mmap(mm, 3, RO); // [202, 205)
      const c = yield* vm_mmap(mm, 3, RW); // [199, 202)
      for (const x of [a, b, c]) yield* load(mm, x + 1);
      assert.equal(yield* vm_munmap(mm, c + 1, 6), 0);
      assert.deepEqual(layout(mm), [[c, c + 1, c], [a + 1, a + 3, a + 1]]);
      assert.equal(pteAt(mm, c + 1)!.kind, 'none');
      assert.equal(pteAt(mm, b + 1)!.kind, 'none');
      assert.equal(pteAt(mm, a + 1)!.kind, 'present');
      assert.equal(machine().mem.nr_free(), 16 - 1);
    });
  });

  it('do_vmi_munmap without unlock returns with mmap_lock still held for write', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      yield* mmap_write_lock(mm);
      assert.equal(yield* do_vmi_munmap(mm, addr, 1, false), 0);
      assert.equal(yield* do_vmi_munmap(mm, addr, 0, false), EINVAL);
      assert.equal(yield* do_vmi_munmap(mm, 1, 1, false), 0);
      assert.ok(mm.mmap_lock.writer);
      yield* mmap_write_unlock(mm);
      assert.deepEqual(layout(mm), [[addr + 1, addr + 3, addr + 1]]);
    });
  });
});
