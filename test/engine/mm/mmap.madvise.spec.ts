import assert from 'node:assert/strict';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { TASK_SIZE, VM_DONTCOPY, VM_WIPEONFORK } from '../../../engine/mm/mm_types.ts';
import { vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { RW, load, mapped, run, store } from '../harness.ts';
import { EINVAL, ENOMEM } from './mmap.setup.ts';

describe('engine/mm/mmap: the VMA tree, mmap, munmap, mprotect, madvise (mmap.ts, mprotect.ts, madvise.ts)', () => {
  it('madvise: flags split the VMA; DONTNEED does not; holes are ENOMEM after advising the rest', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* do_madvise(mm, addr + 1, 2, 'WIPEONFORK'), 0);
      assert.deepEqual(mm.mmap.map((v) => [v.vm_start, v.vm_end, (v.vm_flags & VM_WIPEONFORK) !== 0]), [
        [addr, addr + 1, false],
        [addr + 1, addr + 3, true],
        [addr + 3, addr + 4, false],
      ]);
      assert.equal(yield* do_madvise(mm, addr + 1, 2, 'WIPEONFORK'), 0, 'no change');
      assert.equal(mm.mmap.length, 3);
      assert.equal(yield* do_madvise(mm, addr + 1, 1, 'KEEPONFORK'), 0);
      // The page undone merges into the VMA below (prev expands, middle's start moves up).
      assert.deepEqual(mm.mmap.map((v) => [v.vm_start, v.vm_end, (v.vm_flags & VM_WIPEONFORK) !== 0]), [
        [addr, addr + 2, false],
        [addr + 2, addr + 3, true],
        [addr + 3, addr + 4, false],
      ]);
      assert.equal(yield* do_madvise(mm, addr, 4, 'DONTFORK'), 0);
      assert.ok(mm.mmap.every((v) => v.vm_flags & VM_DONTCOPY));
      assert.equal(yield* do_madvise(mm, addr, 2, 'DOFORK'), 0);
      assert.deepEqual(mm.mmap.map((v) => (v.vm_flags & VM_DONTCOPY) !== 0), [false, true, true]);
      const n = mm.mmap.length;
      assert.equal(yield* do_madvise(mm, addr, 4, 'DONTNEED'), 0);
      assert.equal(mm.mmap.length, n);
      assert.equal(yield* load(mm, addr + 2), 0);
      // Holes: below, in the middle, above.
      const b = yield* vm_mmap(mm, 2, RW); // [addr-2, addr)
      yield* vm_munmap(mm, addr + 1, 1);
      yield* store(mm, addr, 5);
      yield* store(mm, addr + 2, 6);
      assert.equal(yield* do_madvise(mm, b - 1, 2, 'DONTNEED'), ENOMEM);
      assert.equal(yield* do_madvise(mm, addr, 3, 'DONTNEED'), ENOMEM);
      assert.equal(yield* load(mm, addr), 0, 'advised before the hole');
      assert.equal(yield* load(mm, addr + 2), 0, 'and after it');
      assert.equal(yield* do_madvise(mm, addr + 3, 3, 'DONTNEED'), ENOMEM);
      assert.equal(yield* do_madvise(mm, 2, 1, 'DONTNEED'), ENOMEM, 'nothing there');
      assert.equal(yield* do_madvise(mm, addr, 0, 'DONTNEED'), 0, 'a zero length does nothing');
      assert.equal(yield* do_madvise(mm, -1, 1, 'DONTNEED'), EINVAL);
      assert.equal(yield* do_madvise(mm, TASK_SIZE, 1, 'DONTNEED'), ENOMEM, 'beyond TASK_SIZE: nothing mapped there');
      assert.equal(yield* do_madvise(mm, 0, 1, 'DONTNEED'), ENOMEM);
      assert.equal(yield* do_madvise(mm, TASK_SIZE - 1, 1, 'WIPEONFORK'), ENOMEM);
      assert.ok(!mm.mmap_lock.isLocked());
    });
  });
});
