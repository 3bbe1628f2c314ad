import assert from 'node:assert/strict';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { AnonVma, VM_DONTCOPY } from '../../../engine/mm/mm_types.ts';
import { vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { MREMAP_FIXED, MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import { RO, RW, layout, load, mapped, run, store } from '../harness.ts';
import { ENOMEM, EFAULT } from './mmap.setup.ts';

describe('engine/mm/mmap: more edges of mremap and madvise', () => {
  it('copy_vma merges only with an adjacent VMA of the same flags and anon_vma whose pgoff it continues', () => {
    // Each case breaks one condition (some by editing the VMA below directly): the moved range gets a VMA of its own.
    for (const breakIt of ['none', 'flags', 'gap', 'anon_vma', 'pgoff'] as const) {
      run(function* () {
        const { mm, addr } = yield* mapped(6); // [202, 208)
        for (let i = 0; i < 6; i++) yield* store(mm, addr + i, i + 1);
        assert.equal(yield* sys_mremap(mm, addr + 4, 2, 2, MREMAP_FIXED | MREMAP_MAYMOVE, 150), 150);
        const prev = mm.mmap.find((v) => v.vm_start === addr)!; // [202, 206), pgoff 202
        const saved = { anon_vma: prev.anon_vma, pgoff: prev.vm_pgoff };
        if (breakIt === 'flags') yield* sys_mprotect(mm, addr, 4, RO);
        if (breakIt === 'gap') {
          yield* vm_munmap(mm, addr + 3, 1); // prev is [202, 205): it ends below the target
          prev.vm_pgoff = addr + 1; // ... though its pgoff would continue into it
        }
        if (breakIt === 'anon_vma') prev.anon_vma = new AnonVma();
        if (breakIt === 'pgoff') prev.vm_pgoff = addr + 1;
        assert.equal(yield* sys_mremap(mm, 150, 2, 2, MREMAP_FIXED | MREMAP_MAYMOVE, addr + 4), addr + 4, breakIt);
        prev.anon_vma = saved.anon_vma;
        prev.vm_pgoff = saved.pgoff;
        const v = mm.mmap.find((x) => x.vm_end === addr + 6)!;
        assert.equal(v.vm_start === addr + 4, breakIt !== 'none', `${breakIt}: merged or not`);
        assert.deepEqual([yield* load(mm, addr + 4), yield* load(mm, addr + 5)], [5, 6]);
      });
    }
  });

  it('mremap moves page tables across table boundaries, whatever the alignment of source and target', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(20); // [188, 208): two tables
      for (let i = 0; i < 20; i++) yield* store(mm, addr + i, i + 1);
      const to = 100; // [100, 120): 100 is 4 into its table
      assert.equal(yield* sys_mremap(mm, addr, 20, 20, MREMAP_FIXED | MREMAP_MAYMOVE, to), to);
      const got: number[] = [];
      for (let i = 0; i < 20; i++) got.push(yield* load(mm, to + i));
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i + 1));
    }, { frames: 24 });
  });

  it('mremap shrinking leaves the VMA above alone; growing with MAYMOVE fails with ENOMEM when no gap fits', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2); // [206, 208)
      const b = yield* vm_mmap(mm, 4, RW); // [202, 206)
      yield* store(mm, addr, 1);
      assert.equal(yield* sys_mremap(mm, b, 4, 1, 0), b);
      assert.deepEqual(layout(mm), [[b, b + 1, b], [addr, addr + 2, addr]]);
      assert.equal(yield* load(mm, addr), 1);
      assert.equal(yield* vm_mmap(mm, b - 1, RW), 1, 'fill everything below');
      assert.equal(yield* sys_mremap(mm, b, 1, 5, MREMAP_MAYMOVE), ENOMEM);
    });
  });

  it('mremap FIXED to a smaller size moves only what is kept and unmaps the rest of the source', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      const t = yield* vm_mmap(mm, 4, RW);
      assert.equal(yield* sys_mremap(mm, addr, 4, 2, MREMAP_FIXED | MREMAP_MAYMOVE, t), t);
      assert.deepEqual([yield* load(mm, t), yield* load(mm, t + 1), yield* load(mm, t + 2), yield* load(mm, t + 3)], [1, 2, 0, 0]);
      for (let i = 0; i < 4; i++) assert.equal(yield* load(mm, addr + i), EFAULT);
      assert.equal(machine().mem.nr_free(), 16 - 2 - 2, 'the two dropped pages are freed, t+2 and t+3 faulted in');
    });
  });

  it('madvise does not split a VMA that already has the flag, and a VMA starting right at the end is not touched', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      assert.equal(yield* do_madvise(mm, addr, 4, 'WIPEONFORK'), 0);
      assert.equal(yield* do_madvise(mm, addr + 1, 2, 'WIPEONFORK'), 0);
      assert.deepEqual(layout(mm), [[addr, addr + 4, addr]]);
      assert.equal(yield* do_madvise(mm, addr - 3, 3, 'DONTFORK'), ENOMEM, 'a hole that ends where the VMA starts');
      assert.deepEqual(layout(mm), [[addr, addr + 4, addr]]);
      assert.equal(mm.mmap[0]!.vm_flags & VM_DONTCOPY, 0);
    });
  });
});
