import assert from 'node:assert/strict';
import { dup_mm, mm_alloc, mmdrop, mmget, mmput } from '../../../engine/kernel/fork.ts';
import { exit_mm } from '../../../engine/kernel/exit.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { MMF_HAS_PINNED, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { vm_mmap } from '../../../engine/mm/mmap.ts';
import { RW, folioAt, layout, mapped, run, store } from '../harness.ts';

describe('engine/kernel/fork: mm users, references and dup_mm (kernel/fork.ts)', () => {
  it('mm users and references: the last mmput tears down, the last mmdrop frees; the mmlist is left', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      mmget(mm);
      assert.equal(mm.mm_users, 2);
      yield* exit_mm(mm);
      assert.equal(mm.mm_users, 1);
      assert.equal(machine().mem.nr_free(), 15, 'still mapped');
      mm.mm_count++;
      mm.onMmlist = true;
      machine().mmlist.push(mm);
      const other = mm_alloc('P9');
      other.onMmlist = true;
      machine().mmlist.push(other);
      yield* mmput(mm);
      assert.equal(machine().mem.nr_free(), 16, 'torn down');
      assert.deepEqual(machine().mmlist, [other], 'off the mmlist');
      assert.equal(mm.onMmlist, false);
      assert.ok(machine().mms.includes(mm), 'still referenced');
      mmdrop(mm);
      assert.ok(!machine().mms.includes(mm));
      other.onMmlist = false;
    });
  });

  it('a fork that runs out of memory on one VMA fails as a whole, even when later VMAs copy fine', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1); // [207, 208): copied second
      const low = yield* vm_mmap(mm, 1, RW); // [206, 207): copied first
      yield* store(mm, addr, 1);
      yield* store(mm, low, 2);
      const f = folioAt(mm, low);
      mm.flags |= MMF_HAS_PINNED;
      f._pincount++;
      f._refcount++;
      assert.equal(yield* dup_mm(mm, 'P1'), -12);
      assert.deepEqual(machine().mms, [mm]);
      f._pincount--;
      f._refcount--;
    }, { frames: 2 });
  });

  it('mmput of an mm that is not on the mmlist leaves the list alone', () => {
    run(function* () {
      const { mm } = yield* mapped(1);
      const other = mm_alloc('P9');
      other.onMmlist = true;
      machine().mmlist.push(other);
      yield* mmput(mm);
      assert.deepEqual(machine().mmlist, [other]);
      other.onMmlist = false;
    });
  });

  it('dup_mmap: the child gets the mmap_base and copies of the VMAs, and starts with one user', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      mm.mmap_base = 150;
      const b = yield* vm_mmap(mm, 1, RW);
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      assert.equal(child.mmap_base, 150);
      assert.deepEqual(layout(child), layout(mm));
      assert.notEqual(child.mmap[0], mm.mmap[0]);
      assert.equal(child.mmap[0]!.vm_mm, child);
      assert.deepEqual([child.mm_users, child.mm_count, child.owner], [1, 1, 'P1']);
      assert.ok(!mm.mmap_lock.isLocked() && !child.mmap_lock.isLocked());
      void addr;
      void b;
      yield* mmput(child);
    });
  });
});
