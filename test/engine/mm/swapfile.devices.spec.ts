import assert from 'node:assert/strict';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { SWP_WRITEOK, swp_entry, SWP_USED } from '../../../engine/mm/swap.ts';
import { sys_swapoff, sys_swapon, MAX_SWAPFILES, get_swap_device, put_swap_device, swap_count } from '../../../engine/mm/swapfile.ts';
import { folioAt, load, mapped, pteAt, run, store, violates } from '../harness.ts';
import { swapon, EINVAL, EBUSY, swaponType } from './swapfile.setup.ts';

describe('engine/mm/swapfile: swap devices and MADV_PAGEOUT/WILLNEED (swapfile.ts, madvise.ts)', () => {
  it('swapon: 1..64 slots, at most MAX_SWAPFILES devices; swapoff: only of a device that is on', () => {
    run(function* () {
      assert.equal(yield* sys_swapon(0), EINVAL);
      assert.equal(yield* sys_swapon(65), EINVAL);
      assert.equal(yield* sys_swapon(1), 0);
      assert.equal(yield* sys_swapon(64), 1);
      for (let i = 2; i < MAX_SWAPFILES; i++) assert.equal(yield* sys_swapon(2), i);
      assert.equal(yield* sys_swapon(2), EBUSY);
      const si = machine().swap_info[1]!;
      assert.equal(si.flags & (SWP_USED | SWP_WRITEOK), SWP_USED | SWP_WRITEOK);
      assert.equal(si.max, 64);
      assert.equal(yield* sys_swapoff(9), EINVAL);
      assert.equal(yield* sys_swapoff(1), 0);
      assert.equal(si.flags, 0);
      assert.equal(si.swap_map, undefined);
      assert.equal(yield* sys_swapoff(1), EINVAL, 'already off');
      assert.equal(machine().swap_info.length, MAX_SWAPFILES, 'a device that is off keeps its type');
    });
  });

  it('get_swap_device pins a live device for an entry within it, and nothing else', () => {
    run(function* () {
      const t = yield* swaponType(4);
      const si = (yield* get_swap_device(swp_entry(t, 3)))!;
      assert.ok(si);
      assert.equal(si.users, 1);
      put_swap_device(si);
      assert.equal(si.users, 0);
      assert.equal(yield* get_swap_device(swp_entry(t, 4)), undefined, 'beyond the device');
      assert.equal(yield* get_swap_device(swp_entry(t + 1, 0)), undefined, 'no such device');
      assert.equal(yield* sys_swapoff(t), 0);
      assert.equal(yield* get_swap_device(swp_entry(t, 0)), undefined, 'switched off');
      assert.equal(si.users, 0);
    });
    violates(function* () {
      const t = yield* swaponType(4);
      put_swap_device(machine().swap_info[t]!);
    }, 'kernel-bug', /put_swap_device/);
  });

  it('PAGEOUT swaps out the anon pages of the range mapped once; pages shared with a child stay; WILLNEED reads them back into the swap cache', () => {
    run(function* () {
      const t = yield* swaponType(8);
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 3; i++) yield* store(mm, addr + i, i + 1);
      const free0 = machine().mem.nr_free();
      assert.equal(yield* do_madvise(mm, addr, 2, 'PAGEOUT'), 0);
      assert.deepEqual([0, 1, 2, 3].map((i) => pteAt(mm, addr + i)!.kind), ['swap', 'swap', 'present', 'none']);
      assert.equal(machine().mem.nr_free(), free0 + 2);
      const si = machine().swap_info[t]!;
      const e0 = pteAt(mm, addr) as { offset: number };
      assert.equal(swap_count(si, e0.offset), 1);
      assert.equal(yield* do_madvise(mm, addr, 2, 'WILLNEED'), 0);
      assert.equal(machine().mem.nr_free(), free0, 'read into the swap cache');
      assert.deepEqual([0, 1].map((i) => pteAt(mm, addr + i)!.kind), ['swap', 'swap'], 'still swap entries');
      assert.deepEqual([yield* load(mm, addr), yield* load(mm, addr + 1), yield* load(mm, addr + 2)], [1, 2, 3]);
      assert.equal(machine().mem.nr_free(), free0, 'the fault found them in the swap cache');
      // A page shared with a child is not paged out; COLD changes nothing.
      const child = (yield* dup_mm(mm, 'P1')) as typeof mm;
      assert.equal(yield* do_madvise(mm, addr + 2, 1, 'PAGEOUT'), 0);
      assert.equal(pteAt(mm, addr + 2)!.kind, 'present');
      assert.equal(yield* do_madvise(mm, addr, 4, 'COLD'), 0);
      assert.deepEqual([0, 1, 2].map((i) => pteAt(mm, addr + i)!.kind), ['present', 'present', 'present']);
      yield* mmput(child);
    }, { frames: 16 });
  });

  it('PAGEOUT without a swap device cannot free anon pages', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      const f = folioAt(mm, addr);
      assert.equal(yield* do_madvise(mm, addr, 2, 'PAGEOUT'), 0);
      assert.equal(folioAt(mm, addr), f);
      assert.equal(yield* load(mm, addr), 1);
    });
  });
});
