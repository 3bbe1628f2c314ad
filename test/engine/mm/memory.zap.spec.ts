import assert from 'node:assert/strict';
import { mmput } from '../../../engine/kernel/fork.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { RW, load, mapped, pteAt, run, store } from '../harness.ts';
import { EFAULT, fork } from './memory.setup.ts';

describe('engine/mm/memory: faults, COW and fork (memory.ts, fault.ts)', () => {
  it('DONTNEED zaps just the range: pages freed, PTEs none, the page table stays', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      const free = machine().mem.nr_free();
      assert.equal(yield* do_madvise(mm, addr + 1, 2, 'DONTNEED'), 0);
      assert.equal(machine().mem.nr_free(), free + 2);
      assert.deepEqual([0, 1, 2, 3].map((i) => pteAt(mm, addr + i)!.kind), ['present', 'none', 'none', 'present']);
      assert.deepEqual([yield* load(mm, addr), yield* load(mm, addr + 1), yield* load(mm, addr + 3)], [1, 0, 4]);
    });
  });

  it('munmap frees a page table only when no mapping is left in its range', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2); // [206, 208) in the table [192, 208)
      const b = yield* vm_mmap(mm, 2, RW); // [204, 206): same table
      const c = yield* vm_mmap(mm, 16, RW); // [188, 204): spans two tables
      yield* store(mm, addr, 1);
      yield* store(mm, b, 2);
      yield* store(mm, c, 3);
      yield* store(mm, c + 15, 4);
      assert.equal(yield* vm_munmap(mm, addr, 2), 0);
      assert.ok(mm.pgd[pmd_index(b)], 'still used by b and c');
      assert.equal(yield* vm_munmap(mm, b, 2), 0);
      assert.ok(mm.pgd[pmd_index(b)], 'still used by the top of c');
      assert.equal(yield* vm_munmap(mm, c, 16), 0);
      assert.equal(mm.pgd[pmd_index(c)], undefined);
      assert.equal(mm.pgd[pmd_index(b)], undefined);
      assert.equal(machine().mem.nr_free(), 16);
    });
  });

  it('munmap of the middle of a mapping keeps both ends and their pages', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(5);
      for (let i = 0; i < 5; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* vm_munmap(mm, addr + 1, 3), 0);
      assert.deepEqual(mm.mmap.map((v) => [v.vm_start, v.vm_end]), [[addr, addr + 1], [addr + 4, addr + 5]]);
      assert.deepEqual([yield* load(mm, addr), yield* load(mm, addr + 4), yield* load(mm, addr + 2)], [1, 5, EFAULT]);
      assert.ok(mm.pgd[pmd_index(addr)]);
      assert.equal(machine().mem.nr_free(), 16 - 2);
    });
  });

  it('exit tears everything down: pages, tables, VMAs, anon_vmas', () => {
    const r = run(function* () {
      const { mm, addr } = yield* mapped(3);
      yield* store(mm, addr, 1);
      const child = yield* fork(mm);
      yield* store(child, addr + 1, 2);
      yield* mmput(child);
      yield* mmput(mm);
      assert.equal(machine().mem.nr_free(), 16);
      assert.equal(machine().mms.length, 0);
    });
    assert.equal(r.violation, undefined);
  });
});
