import assert from 'node:assert/strict';
import { MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import { layout, load, mapped, pteAt, run, store } from '../harness.ts';
import { EFAULT } from './mprotect.setup.ts';

describe('engine/mm/mprotect: mremap to the same size (mremap.ts)', () => {
  it('returns addr and changes nothing, with or without MREMAP_MAYMOVE', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      yield* store(mm, addr + 2, 5);
      const before = layout(mm);
      const pte = pteAt(mm, addr + 2);
      assert.equal(yield* sys_mremap(mm, addr, 3, 3, 0), addr);
      assert.equal(yield* sys_mremap(mm, addr, 3, 3, MREMAP_MAYMOVE), addr);
      assert.equal(yield* sys_mremap(mm, addr + 1, 1, 1, 0), addr + 1, 'part of a VMA');
      assert.deepEqual(layout(mm), before);
      assert.equal(pteAt(mm, addr + 2), pte);
      assert.equal(yield* load(mm, addr + 2), 5);
      assert.equal(yield* sys_mremap(mm, addr + 10, 1, 1, 0), EFAULT, 'still needs a VMA at addr');
      assert.ok(!mm.mmap_lock.isLocked());
    });
  });
});
