import assert from 'node:assert/strict';
import { mm_alloc } from '../../../engine/kernel/fork.ts';
import { MMAP_BASE, VM_READ, VM_WRITE, VmArea } from '../../../engine/mm/mm_types.ts';
import { __split_vma, calc_vm_prot_bits, do_mmap, do_vmi_munmap, find_vma, find_vma_prev, get_unmapped_area, vma_detach, vma_link, vma_lookup, vma_shrink } from '../../../engine/mm/mmap.ts';
import { mmap_write_lock, mmap_write_unlock } from '../../../engine/mm/mmap_lock.ts';
import { VMG_STATE, vma_expand } from '../../../engine/mm/vma.ts';
import { RW, layout, mapped, run, violates } from '../harness.ts';

describe('engine/mm/mmap: the VMA tree, mmap, munmap, mprotect, madvise (mmap.ts, mprotect.ts, madvise.ts)', () => {
  it('calc_vm_prot_bits', () => {
    assert.deepEqual([calc_vm_prot_bits(0), calc_vm_prot_bits(1), calc_vm_prot_bits(2), calc_vm_prot_bits(3)], [0, VM_READ, VM_WRITE, VM_READ | VM_WRITE]);
  });

  it('find_vma, vma_lookup, find_vma_prev on a tree with holes', () => {
    run(function* () {
      const mm = mm_alloc('P0');
      vma_link(mm, new VmArea(mm, 10, 20, 10, 0));
      vma_link(mm, new VmArea(mm, 30, 40, 30, 0));
      assert.deepEqual(layout(mm), [[10, 20, 10], [30, 40, 30]]);
      assert.equal(find_vma(mm, 5)!.vm_start, 10);
      assert.equal(find_vma(mm, 19)!.vm_start, 10);
      assert.equal(find_vma(mm, 20)!.vm_start, 30);
      assert.equal(find_vma(mm, 40), undefined);
      assert.equal(vma_lookup(mm, 5), undefined);
      assert.equal(vma_lookup(mm, 10)!.vm_start, 10);
      assert.equal(vma_lookup(mm, 25), undefined);
      assert.equal(vma_lookup(mm, 39)!.vm_start, 30);
      assert.equal(find_vma_prev(mm, 10), undefined);
      assert.equal(find_vma_prev(mm, 11)!.vm_start, 10);
      assert.equal(find_vma_prev(mm, 30)!.vm_start, 10);
      assert.equal(find_vma_prev(mm, 31)!.vm_start, 30);
      // Insertion keeps the order, wherever the VMA goes.
      vma_link(mm, new VmArea(mm, 20, 30, 20, 0));
      vma_link(mm, new VmArea(mm, 1, 10, 1, 0));
      assert.deepEqual(layout(mm).map((l) => l[0]), [1, 10, 20, 30]);
      yield 'done';
    });
  });

  it('vma_link refuses overlaps on either side; vma_detach refuses a stranger', () => {
    for (const [s, e] of [[15, 25], [5, 11], [12, 18], [19, 21]]) {
      violates(function* () {
        const mm = mm_alloc('P0');
        vma_link(mm, new VmArea(mm, 10, 20, 10, 0));
        vma_link(mm, new VmArea(mm, s, e, s, 0));
        yield 'x';
      }, 'kernel-bug', /vma_link/);
    }
    violates(function* () {
      const mm = mm_alloc('P0');
      vma_detach(mm, new VmArea(mm, 10, 20, 10, 0));
      yield 'x';
    }, 'kernel-bug', /vma_detach/);
  });

  it('get_unmapped_area: the highest gap below mmap_base that fits', () => {
    run(function* () {
      const mm = mm_alloc('P0');
      assert.equal(get_unmapped_area(mm, 4), MMAP_BASE - 4);
      vma_link(mm, new VmArea(mm, MMAP_BASE - 4, MMAP_BASE, 0, 0));
      vma_link(mm, new VmArea(mm, MMAP_BASE - 10, MMAP_BASE - 6, 0, 0));
      assert.equal(get_unmapped_area(mm, 2), MMAP_BASE - 6, 'exactly fits the hole');
      assert.equal(get_unmapped_area(mm, 3), MMAP_BASE - 13);
      vma_link(mm, new VmArea(mm, MMAP_BASE + 4, MMAP_BASE + 8, 0, 0)); // above mmap_base: ignored
      assert.equal(get_unmapped_area(mm, 2), MMAP_BASE - 6);
      assert.equal(get_unmapped_area(mm, MMAP_BASE - 10 - 1), 1);
      assert.equal(get_unmapped_area(mm, MMAP_BASE - 10), -12);
      yield 'done';
    });
  });

  it('__split_vma, vma_expand, vma_shrink keep pgoff consistent with vm_start', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(6);
      yield* mmap_write_lock(mm);
      const vma = mm.mmap[0]!;
      const upper = (yield* __split_vma(vma, addr + 2, false)) as VmArea;
      assert.deepEqual([upper.vm_start, upper.vm_end, upper.vm_pgoff], [addr + 2, addr + 6, addr + 2]);
      const lower = (yield* __split_vma(upper, addr + 4, true)) as VmArea;
      assert.deepEqual([lower.vm_start, lower.vm_end, lower.vm_pgoff], [addr + 2, addr + 4, addr + 2]);
      assert.deepEqual([upper.vm_start, upper.vm_end, upper.vm_pgoff], [addr + 4, addr + 6, addr + 4]);
      assert.deepEqual(layout(mm), [[addr, addr + 2, addr], [addr + 2, addr + 4, addr + 2], [addr + 4, addr + 6, addr + 4]]);
      yield* vma_shrink(upper, addr + 4, addr + 5, addr + 4);
      assert.deepEqual([upper.vm_start, upper.vm_end], [addr + 4, addr + 5]);
      const vmg = VMG_STATE(mm, addr + 4, addr + 6, upper.vm_flags, addr + 4);
      vmg.target = upper;
      assert.equal(yield* vma_expand(vmg), 0);
      assert.equal(upper.vm_end, addr + 6);
      yield* mmap_write_unlock(mm);
    });
    for (const [s, e] of [
      [1, 2],
      [5, 3],
    ]) {
      violates(function* () {
        const { mm, addr } = yield* mapped(6);
        yield* mmap_write_lock(mm);
        yield* vma_shrink(mm.mmap[0]!, addr + s, addr + e, addr);
      }, 'kernel-bug', /vma_shrink/);
    }
  });

  it('mmap paths assert mmap_lock held for write', () => {
    violates(function* () {
      const mm = mm_alloc('P0');
      yield* do_mmap(mm, 1, RW);
    }, 'kernel-bug', /do_mmap/);
    violates(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* do_vmi_munmap(mm, addr, 1, false);
    }, 'kernel-bug', /do_vmi_munmap/);
    violates(function* () {
      const { mm } = yield* mapped(2);
      const vmg = VMG_STATE(mm, 1, 2, 0, 1);
      vmg.target = mm.mmap[0]!;
      yield* vma_expand(vmg);
    }, 'kernel-bug', /vma_expand/);
  });
});
