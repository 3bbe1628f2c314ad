import assert from 'node:assert/strict';
import { dup_mm, mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { AnonVma, MMAP_BASE, TASK_SIZE, VM_DONTCOPY, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WIPEONFORK, VM_WRITE, VmArea, mk_pte } from '../../../engine/mm/mm_types.ts';
import { __split_vma, calc_vm_prot_bits, do_mmap, do_vmi_munmap, find_vma, find_vma_prev, get_unmapped_area, vm_mmap, vm_munmap, vma_detach, vma_link, vma_lookup, vma_shrink } from '../../../engine/mm/mmap.ts';
import { mmap_write_lock, mmap_write_unlock } from '../../../engine/mm/mmap_lock.ts';
import { VMG_STATE, vma_expand } from '../../../engine/mm/vma.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { MREMAP_FIXED, MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import { RO, RW, folioAt, layout, load, mapped, pteAt, run, store, violates } from '../harness.ts';

const EINVAL = -22;
const ENOMEM = -12;
const EFAULT = -14;

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
      assert.equal(yield* sys_mremap(mm, a - 2, 3, 3, MREMAP_FIXED | MREMAP_MAYMOVE, 100), EFAULT, 'FIXED with the old range beyond the VMA');
      assert.deepEqual(layout(mm), [[a - 2, a, a - 2]], 'moved twice; never faulted, so copy_vma gave it the new address as pgoff');
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
});



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
