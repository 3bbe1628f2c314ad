import assert from 'node:assert/strict';
import { Replay } from '../../../engine/index.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { VM_WIPEONFORK } from '../../../engine/mm/mm_types.ts';
import { vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { MREMAP_DONTUNMAP, MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { describeViolation, runChecked } from '../../helpers/run.ts';
import { RO, RW, folioAt, layout, load, mapped, run, store } from '../harness.ts';

const EINVAL = -22;
const EFAULT = -14;

describe('engine/mm/vma: merging as mm/vma.c does it (vma.ts)', () => {
  it('adjacent mmaps with equal flags are one VMA (vma_merge_new_range: the new range below merges with the one above)', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      yield* store(mm, addr, 1);
      const b = yield* vm_mmap(mm, 2, RW);
      assert.equal(b, addr - 2);
      assert.deepEqual(layout(mm), [[b, addr + 3, b]], 'next grew down over it, its pgoff with it');
      assert.equal(folioAt(mm, addr).index, addr, 'the page next had keeps its index: rmap still finds it');
      const c = yield* vm_mmap(mm, 1, RO);
      assert.deepEqual(layout(mm), [[c, c + 1, c], [b, addr + 3, b]], 'other flags: a VMA of its own');
    });
  });

  it('mprotect or madvise split and undone: the pieces merge back (vma_merge_existing_range), as Linux does', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* sys_mprotect(mm, addr + 3, 1, RO), 0);
      assert.equal(mm.mmap.length, 2);
      assert.equal(yield* sys_mprotect(mm, addr + 3, 1, RW), 0);
      assert.deepEqual(layout(mm), [[addr, addr + 4, addr]]);
      // The program: Linux grows the merged mapping; unmerged, the range spans two VMAs (-EFAULT).
      const to = yield* sys_mremap(mm, addr, 4, 8, MREMAP_MAYMOVE);
      assert.ok(to > 0, `mremap: ${to}`);
      assert.equal(yield* load(mm, to + 3), 4);
      assert.equal(yield* do_madvise(mm, to + 1, 2, 'WIPEONFORK'), 0);
      assert.equal(mm.mmap.length, 3);
      assert.equal(yield* do_madvise(mm, to + 1, 2, 'KEEPONFORK'), 0);
      assert.deepEqual(layout(mm), [[to, to + 8, addr]]);
      assert.equal(mm.mmap[0]!.vm_flags & VM_WIPEONFORK, 0);
    });
  });

  it('a page faulted in a split-off piece shares its neighbour\'s anon_vma (find_mergeable_anon_vma), so the undo merges', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      yield* store(mm, addr, 1);
      assert.equal(yield* sys_mprotect(mm, addr + 2, 1, RO), 0);
      assert.equal(yield* load(mm, addr + 2), 0, 'a read fault in the read-only piece');
      const [lower, upper] = mm.mmap;
      assert.equal(upper!.anon_vma, lower!.anon_vma);
      assert.equal(yield* sys_mprotect(mm, addr + 2, 1, RW), 0);
      assert.deepEqual(layout(mm), [[addr, addr + 3, addr]]);
    });
  });

  it('a merge that takes over a faulted VMA links the unfaulted one to its anon_vma (dup_anon_vma)', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      assert.equal(yield* sys_mprotect(mm, addr + 2, 1, RO), 0);
      yield* load(mm, addr + 2); // only the upper piece is faulted
      const upper = mm.mmap[1]!;
      const av = upper.anon_vma!;
      assert.equal(mm.mmap[0]!.anon_vma, undefined);
      assert.equal(yield* sys_mprotect(mm, addr + 2, 1, RW), 0);
      const merged = mm.mmap[0]!;
      assert.deepEqual(layout(mm), [[addr, addr + 3, addr]]);
      assert.equal(merged.anon_vma, av);
      assert.deepEqual(av.rb_root.map((c) => c.vma), [merged], 'the removed VMA was unlinked');
      assert.ok(upper.detached);
      assert.equal(yield* load(mm, addr + 2), 0);
    });
  });

  it('lengths of 0: mprotect and madvise succeed and do nothing, munmap and mremap to 0 pages are EINVAL', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      assert.deepEqual(
        [yield* sys_mprotect(mm, addr, 0, RO), yield* do_madvise(mm, addr, 0, 'DONTFORK'), yield* vm_munmap(mm, addr, 0), yield* sys_mremap(mm, addr, 2, 0, 0)],
        [0, 0, EINVAL, EINVAL],
      );
      assert.deepEqual(layout(mm), [[addr, addr + 2, addr]]);
    });
  });

  it('MREMAP_DONTUNMAP: the pages move, the old VMA stays, empty, without its anon_vma; it needs MAYMOVE and the same length', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 5);
      yield* store(mm, addr + 1, 6);
      const f = folioAt(mm, addr);
      assert.equal(yield* sys_mremap(mm, addr, 2, 3, MREMAP_MAYMOVE | MREMAP_DONTUNMAP), EINVAL, 'no resizing');
      assert.equal(yield* sys_mremap(mm, addr, 2, 2, MREMAP_DONTUNMAP), EINVAL, 'MAYMOVE needed');
      const to = yield* sys_mremap(mm, addr, 2, 2, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
      assert.ok(to > 0 && to !== addr, `mremap: ${to}`);
      assert.equal(folioAt(mm, to), f);
      assert.deepEqual([yield* load(mm, to), yield* load(mm, to + 1)], [5, 6]);
      const old = mm.mmap.find((v) => v.vm_start === addr)!;
      assert.equal(old.vm_end, addr + 2);
      assert.equal(old.anon_vma_chain.length, 0, 'dontunmap_complete(): unlink_anon_vmas()');
      assert.deepEqual([yield* load(mm, addr), yield* store(mm, addr + 1, 7)], [0, 0], 'still mapped, zero-filled');
      assert.notEqual(old.anon_vma, undefined, 'faulted afresh');
      assert.equal(yield* load(mm, to + 1), 6);
    });
  });

  it('a program whose pieces Linux merges back runs clean, with every property on (the issue\'s differential example)', () => {
    const ops: Op[] = [
      { op: 'mmap', region: 0, pages: 4, prot: 'rw' },
      { op: 'write', region: 0, page: 3, word: 0, value: 1 },
      { op: 'mprotect', region: 0, page: 3, pages: 1, prot: 'r' },
      { op: 'mprotect', region: 0, page: 3, pages: 1, prot: 'rw' },
      { op: 'mremap', region: 0, pages: 8, maymove: true },
      { op: 'read', region: 0, page: 3, word: 0 },
      { op: 'mprotect', region: 0, page: 0, pages: 0, prot: 'r' },
      { op: 'madvise', region: 0, page: 0, pages: 0, advice: 'DONTNEED' },
      { op: 'mremap', region: 0, pages: 8, maymove: true, dontunmap: true },
      { op: 'read', region: 0, page: 3, word: 0 },
    ];
    const program: Program = { processes: [{ threads: [ops] }] };
    const r = runChecked(program, new Replay([]));
    assert.equal(r.violation, undefined, describeViolation(r));
    const results = r.history.records.map((x) => x.result);
    assert.ok(results[4]! > 0 && results[8]! > 0, `mremaps: ${results}`);
    assert.deepEqual([results[5], results[6], results[7], results[9]], [0, 0, 0, 0]);
    const value = (i: number): number | undefined => (r.history.records[i] as { value?: number }).value;
    assert.deepEqual([value(5), value(9)], [1, 1]);
    assert.notEqual(results[4], EFAULT);
  });
});
