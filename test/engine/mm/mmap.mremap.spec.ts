import assert from 'node:assert/strict';
import { machine } from '../../../engine/mm/machine.ts';
import { TASK_SIZE, mk_pte } from '../../../engine/mm/mm_types.ts';
import { vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { MREMAP_FIXED, MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { RO, RW, folioAt, layout, load, mapped, pteAt, run, store } from '../harness.ts';
import { EINVAL, ENOMEM, EFAULT } from './mmap.setup.ts';

describe('engine/mm/mmap: the VMA tree, mmap, munmap, mprotect, madvise (mmap.ts, mprotect.ts, madvise.ts)', () => {
  it('mremap: shrink in place, grow in place, move, MREMAP_FIXED; contents and PTEs move along', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4); // [204, 208)
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* sys_mremap(mm, addr, 4, 2, 0), addr, 'shrink');
      assert.deepEqual(layout(mm), [[addr, addr + 2, addr]]);
      assert.equal(machine().mem.nr_free(), 16 - 2);
      assert.equal(yield* sys_mremap(mm, addr, 2, 3, 0), addr, 'grow in place');
      assert.deepEqual(layout(mm), [[addr, addr + 3, addr]]);
      assert.equal(yield* sys_mremap(mm, addr, 3, 4, 0), addr, 'grow up to the top exactly');
      const b = yield* vm_mmap(mm, 1, RW); // [203, 204)
      yield* store(mm, b, 9);
      assert.equal(yield* sys_mremap(mm, b, 1, 2, 0), ENOMEM, 'no room and no MAYMOVE');
      const f = folioAt(mm, b);
      const moved = yield* sys_mremap(mm, b, 1, 2, MREMAP_MAYMOVE);
      assert.ok(moved > 0 && moved !== b);
      assert.equal(folioAt(mm, moved), f, 'the page moved with its PTE');
      assert.equal(pteAt(mm, b)?.kind ?? 'none', 'none');
      assert.equal(yield* load(mm, b), EFAULT);
      assert.equal(yield* load(mm, moved), 9);
      assert.equal(f.index, b, 'the folio keeps its index: the new VMA has the old pgoff');
      assert.equal(mm.mmap.find((v) => v.vm_start === moved)!.vm_pgoff, b);
      // MREMAP_FIXED onto another mapping: the target is unmapped first.
      const t = yield* vm_mmap(mm, 3, RW);
      yield* store(mm, t, 42);
      assert.equal(yield* sys_mremap(mm, addr, 4, 2, MREMAP_FIXED | MREMAP_MAYMOVE, t), t);
      assert.deepEqual([yield* load(mm, t), yield* load(mm, t + 1), yield* load(mm, t + 2)], [1, 2, 0], 'the rest of the target stays');
      assert.equal(yield* load(mm, addr), EFAULT);
    });
  });

  it('mremap errors: bad lengths, FIXED without MAYMOVE, no VMA, overlapping or out-of-range targets, a range beyond the VMA', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      assert.equal(yield* sys_mremap(mm, addr, 0, 2, 0), EINVAL);
      assert.equal(yield* sys_mremap(mm, addr, 2, 0, 0), EINVAL);
      assert.equal(yield* sys_mremap(mm, addr, 2, 2, MREMAP_FIXED, 10), EINVAL);
      assert.equal(yield* sys_mremap(mm, addr - 1, 1, 2, 0), EFAULT);
      assert.equal(yield* sys_mremap(mm, addr, 4, 2, MREMAP_FIXED | MREMAP_MAYMOVE, addr + 3), EINVAL, 'overlap above');
      assert.equal(yield* sys_mremap(mm, addr, 4, 2, MREMAP_FIXED | MREMAP_MAYMOVE, addr - 1), EINVAL, 'overlap below');
      assert.equal(yield* sys_mremap(mm, addr, 4, 2, MREMAP_FIXED | MREMAP_MAYMOVE, -1), EINVAL);
      assert.equal(yield* sys_mremap(mm, addr, 4, 2, MREMAP_FIXED | MREMAP_MAYMOVE, TASK_SIZE - 1), EINVAL);
      assert.equal(yield* sys_mremap(mm, addr, 4, 2, MREMAP_FIXED | MREMAP_MAYMOVE, TASK_SIZE - 2), TASK_SIZE - 2, 'right at the top');
      const a = TASK_SIZE - 2;
      assert.equal(yield* sys_mremap(mm, a, 3, 4, MREMAP_MAYMOVE), EFAULT, 'old range beyond the VMA');
      assert.equal(yield* sys_mremap(mm, a, 2, 2, MREMAP_FIXED | MREMAP_MAYMOVE, a - 2), a - 2, 'adjacent below is no overlap');
      assert.equal(yield* sys_mremap(mm, a - 2, 2, 3, MREMAP_FIXED | MREMAP_MAYMOVE, a - 4), EINVAL, 'overlaps by one');
      // v6.18's remap_move (checked on the live 6.18 kernel): a move of unchanged length takes the
      // VMAs in the range and keeps the gaps; only a gap at the start is -EFAULT.
      assert.equal(yield* sys_mremap(mm, a - 3, 2, 2, MREMAP_FIXED | MREMAP_MAYMOVE, 100), EFAULT, 'FIXED with a gap at the start');
      assert.equal(yield* sys_mremap(mm, a - 2, 3, 3, MREMAP_FIXED | MREMAP_MAYMOVE, 100), 100, 'FIXED with the old range beyond the VMA: its VMA moves');
      assert.deepEqual(layout(mm), [[100, 102, 100]], 'moved three times; never faulted, so copy_vma gave it the new address as pgoff');
      assert.ok(!mm.mmap_lock.isLocked());
    });
  });

  it('mremap grows in place only when the range ends at the VMA end and the gap is big enough', () => {
    run(function* () {
      const { mm, addr: a } = yield* mapped(4); // A = [204, 208)
      const b = yield* vm_mmap(mm, 4, RO); // B = [200, 204): read-only, so it does not merge with A
      yield* vm_munmap(mm, b + 3, 1); // B = [200, 203), one page below A
      assert.equal(yield* sys_mremap(mm, b, 3, 4, 0), b, 'fits the gap exactly');
      assert.equal(yield* sys_mremap(mm, b, 4, 5, 0), ENOMEM, 'no gap left');
      yield* vm_munmap(mm, b + 2, 2); // B = [200, 202)
      assert.equal(yield* sys_mremap(mm, b, 2, 5, 0), ENOMEM, 'gap too small');
      assert.equal(yield* sys_mremap(mm, b, 1, 2, 0), ENOMEM, 'not the end of the VMA: it would have to move');
      assert.equal(yield* sys_mremap(mm, b + 1, 1, 3, 0), b + 1, 'a range ending at the VMA end grows');
      assert.deepEqual(layout(mm), [[b, b + 4, b], [a, a + 4, a]]);
      const to = yield* sys_mremap(mm, b, 1, 2, MREMAP_MAYMOVE);
      assert.ok(to > 0 && to < b);
      // Never faulted: copy_vma() gave the new range pgoff `to`, which B continues, so it
      // merged with B itself before B's first page was unmapped.
      assert.deepEqual(layout(mm), [[to, to + 2, to], [b + 1, b + 4, b + 1], [a, a + 4, a]]);
      // (old_len == new_len gives EINVAL, where Linux returns addr: see mutation/README.md.)
    });
  });

  it('mremap moving next to a VMA whose pgoff it continues merges into it (copy_vma)', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(6); // [202, 208)
      for (let i = 0; i < 6; i++) yield* store(mm, addr + i, i + 1);
      const f = folioAt(mm, addr + 4);
      assert.equal(yield* sys_mremap(mm, addr + 4, 2, 2, MREMAP_FIXED | MREMAP_MAYMOVE, 150), 150);
      assert.deepEqual(layout(mm), [[150, 152, addr + 4], [addr, addr + 4, addr]]);
      assert.equal(folioAt(mm, 150), f);
      // Back where its pgoff continues [202, 206): copy_vma extends that VMA instead of making one.
      assert.equal(yield* sys_mremap(mm, 150, 2, 2, MREMAP_FIXED | MREMAP_MAYMOVE, addr + 4), addr + 4);
      assert.deepEqual(layout(mm), [[addr, addr + 6, addr]]);
      assert.equal(folioAt(mm, addr + 4), f);
      assert.deepEqual([yield* load(mm, addr + 4), yield* load(mm, addr + 5)], [5, 6]);
      // Somewhere its pgoff does not continue: a VMA of its own.
      assert.equal(yield* sys_mremap(mm, addr + 4, 2, 2, MREMAP_FIXED | MREMAP_MAYMOVE, 150), 150);
      const g = yield* vm_mmap(mm, 2, RW);
      void g;
      assert.equal(yield* sys_mremap(mm, 150, 2, 2, MREMAP_FIXED | MREMAP_MAYMOVE, 152), 152);
      assert.ok(mm.mmap.some((v) => v.vm_start === 152 && v.vm_pgoff === addr + 4));
    });
  });

  it('mremap out of physical memory is not an error: page tables need none', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      yield* store(mm, addr + 1, 2);
      const to = yield* sys_mremap(mm, addr, 2, 40, MREMAP_MAYMOVE);
      assert.ok(to > 0);
      assert.deepEqual([yield* load(mm, to), yield* load(mm, to + 1)], [1, 2]);
      assert.equal(pteAt(mm, to + 1)!.kind, 'present');
      assert.deepEqual(pteAt(mm, to), mk_pte(folioAt(mm, to).pfn, true, true));
    }, { frames: 2 });
  });
  it('mremap MREMAP_FIXED of unchanged length over several VMAs moves each, gaps kept (remap_move, as the live 6.18 kernel does)', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* sys_mprotect(mm, addr + 1, 1, RO), 0);
      assert.equal(yield* vm_munmap(mm, addr + 2, 1), 0);
      // [addr, addr+1) rw, [addr+1, addr+2) ro, a hole, [addr+3, addr+4) rw.
      assert.equal(yield* sys_mremap(mm, addr, 4, 4, MREMAP_FIXED | MREMAP_MAYMOVE, 100), 100);
      assert.deepEqual(layout(mm).map(([s, e]) => [s, e]), [[100, 101], [101, 102], [103, 104]], 'each VMA moved, the read-only one apart, the hole kept');
      assert.deepEqual([yield* load(mm, 100), yield* load(mm, 101), yield* load(mm, 103)], [1, 2, 4]);
    });
  });
});
