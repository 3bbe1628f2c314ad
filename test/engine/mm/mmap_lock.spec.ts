import assert from 'node:assert/strict';
import { VmArea } from '../../../engine/mm/mm_types.ts';
import { __split_vma } from '../../../engine/mm/mmap.ts';
import { mmap_read_lock, mmap_write_lock, mmap_write_unlock, vma_assert_write_locked, vma_start_write } from '../../../engine/mm/mmap_lock.ts';
import { mapped, run, violates } from '../harness.ts';

describe('engine/mm/mmap_lock: VMA write locking and vm_sequence (mmap_lock.ts)', () => {
  it('vma_start_write makes vm_sequence odd and the VMA write-locked until mmap_write_unlock; once per section', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      const vma = mm.mmap[0]!;
      const seq0 = vma.vm_sequence.sequence;
      assert.equal(seq0 % 2, 0);
      yield* mmap_write_lock(mm);
      assert.notEqual(vma.vm_lock_seq, mm.mm_lock_seq);
      yield* vma_start_write(vma);
      assert.equal(vma.vm_lock_seq, mm.mm_lock_seq);
      assert.equal(vma.vm_sequence.sequence, seq0 + 1);
      yield* vma_start_write(vma);
      assert.equal(vma.vm_sequence.sequence, seq0 + 1, 'still one write section');
      // A VMA born write-locked (the split's new half) begins its section on its first vma_start_write.
      const upper = (yield* __split_vma(vma, addr + 2, false)) as VmArea;
      assert.equal(upper.vm_lock_seq, mm.mm_lock_seq);
      const useq = upper.vm_sequence.sequence;
      yield* vma_start_write(upper);
      assert.equal(upper.vm_sequence.sequence % 2, 1);
      assert.ok(upper.vm_sequence.sequence >= useq);
      yield* mmap_write_unlock(mm);
      assert.notEqual(vma.vm_lock_seq, mm.mm_lock_seq);
      assert.equal(vma.vm_sequence.sequence, seq0 + 2, 'the section ended');
      assert.equal(upper.vm_sequence.sequence % 2, 0);
    });
    violates(function* () {
      const { mm } = yield* mapped(1);
      vma_assert_write_locked(mm.mmap[0]!, 'somewhere');
    }, 'kernel-bug', /somewhere/);
    violates(function* () {
      const { mm } = yield* mapped(1);
      yield* mmap_read_lock(mm);
      yield* vma_start_write(mm.mmap[0]!);
    }, 'kernel-bug', /vma_start_write/);
  });
});
