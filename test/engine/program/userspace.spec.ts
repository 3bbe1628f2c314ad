import assert from 'node:assert/strict';
import { mm_alloc } from '../../../engine/kernel/fork.ts';
import { UserSpace, type PinInfo } from '../../../engine/program/userspace.ts';
import type { Folio } from '../../../engine/mm/mm_types.ts';
import { run } from '../harness.ts';

const pin = (id: number, addr: number): PinInfo => ({ id, addr, folio: {} as Folio, write: false, longterm: false, detached: false });

describe('engine/program/userspace: what a process keeps of its address space', () => {
  it('fork copies the region handles: the child can change its own without touching the parent', () => {
    run(function* () {
      const parent = new UserSpace(0, mm_alloc('P0'), 0);
      parent.regions.set(0, { start: 100, pages: 2 });
      const child = new UserSpace(1, mm_alloc('P1'), 1);
      child.copyRegionsFrom(parent);
      assert.deepEqual(child.regions.get(0), { start: 100, pages: 2 });
      child.regions.get(0)!.pages = 1;
      assert.equal(parent.regions.get(0)!.pages, 2);
    });
  });

  it('unmapping a range detaches the pins inside it only, and is remembered from the step it began', () => {
    run(function* () {
      const us = new UserSpace(0, mm_alloc('P0'), 0);
      us.pins.set(0, pin(1, 100));
      us.pins.set(1, pin(2, 102));
      const token = us.detachPins(100, 2);
      assert.deepEqual([us.pins.get(0)!.detached, us.pins.get(1)!.detached], [true, false]);
      assert.equal(us.detachedSince(101, 50), true, 'in flight: taken away whenever you look');
      us.detachDone(token, 40);
      assert.equal(us.detachedSince(101, 30), true, 'ended at step 40: after step 30');
      assert.equal(us.detachedSince(101, 40), false, 'not after step 40');
      assert.equal(us.detachedSince(102, 0), false, 'outside the range');
    });
  });
});
