import assert from 'node:assert/strict';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { PG_swapcache, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { vm_munmap } from '../../../engine/mm/mmap.ts';
import { SWAP_HAS_CACHE } from '../../../engine/mm/swap.ts';
import { folioAt, load, mapped, run, store } from '../harness.ts';
import { ENOMEM, swapon, pageout, swapPte, swappedPage, fillMemory } from './swapfile.setup.ts';

describe('engine/mm/swapfile: the swap cache on zap and swap-in (free_swap_and_cache, swapin_readahead, read_swap_cache_async)', () => {
  it('zapping the last swap PTE of a slot the swap cache holds frees both the slot and the unmapped folio', () => {
    run(function* () {
      const { si, mm, addr, e } = yield* swappedPage(false);
      const free0 = machine().mem.nr_free();
      assert.equal(yield* do_madvise(mm, addr, 1, 'WILLNEED'), 0);
      assert.equal(si.swap_map!.map[e.offset], 1 | SWAP_HAS_CACHE);
      assert.equal(machine().mem.nr_free(), free0 - 1);
      assert.equal(yield* do_madvise(mm, addr, 1, 'DONTNEED'), 0);
      assert.equal(si.swap_map!.map[e.offset], 0, 'slot free');
      assert.equal(si.inuse_pages, 0);
      assert.equal(si.cache.size, 0, 'the swap cache let go');
      assert.equal(machine().mem.nr_free(), free0, 'the folio is freed');
      assert.equal(yield* load(mm, addr), 0, 'DONTNEED: zero-fill on the next touch');
    });
  });

  it('zapping the last swap PTE of a slot whose folio is still mapped elsewhere keeps it in the swap cache (TTRS_UNMAPPED)', () => {
    run(function* () {
      const { si, mm, addr, e } = yield* swappedPage(false, 1);
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      assert.equal(si.swap_map!.map[e.offset], 2);
      assert.equal(yield* load(mm, addr), 5, 'the parent faults it back in; the child still has the entry');
      const f = folioAt(mm, addr);
      assert.equal(si.swap_map!.map[e.offset], 1 | SWAP_HAS_CACHE);
      yield* mmput(child);
      assert.equal(si.swap_map!.map[e.offset], SWAP_HAS_CACHE, 'no PTE refers to the slot');
      assert.equal(si.cache.get(e.offset), f, 'but the mapped folio stays in the swap cache');
      assert.ok(f.flags & PG_swapcache);
      assert.equal(si.inuse_pages, 1);
      assert.equal(yield* load(mm, addr), 5);
    });
  });

  it('a swap-in fault reads the slots around it into the swap cache (swap_cluster_readahead), not beyond the device', () => {
    run(function* () {
      const si = yield* swapon(3);
      const { mm, addr } = yield* mapped(3);
      for (let i = 0; i < 3; i++) yield* store(mm, addr + i, 10 + i);
      yield* pageout(mm, addr, 3);
      assert.deepEqual([0, 1, 2].map((i) => swapPte(mm, addr + i).offset), [0, 1, 2]);
      const free0 = machine().mem.nr_free();
      assert.equal(yield* load(mm, addr + 1), 11);
      assert.deepEqual([...si.cache.keys()].sort(), [0, 1, 2], 'both neighbours read ahead');
      assert.equal(machine().mem.nr_free(), free0 - 3);
      assert.deepEqual(si.swap_map!.map, [1 | SWAP_HAS_CACHE, SWAP_HAS_CACHE, 1 | SWAP_HAS_CACHE]);
      assert.deepEqual([swapPte(mm, addr).offset, swapPte(mm, addr + 2).offset], [0, 2], 'read ahead, not mapped');
      assert.deepEqual(si.cache.get(0)!.data, [10, 0]);
      assert.deepEqual(si.cache.get(2)!.data, [12, 0]);
      assert.equal(yield* load(mm, addr), 10);
      assert.equal(yield* load(mm, addr + 2), 12);
      assert.equal(machine().mem.nr_free(), free0 - 3, 'the faults found them in the swap cache');
    });
    run(function* () {
      const si = yield* swapon(2);
      const { mm, addr } = yield* mapped(2);
      for (let i = 0; i < 2; i++) yield* store(mm, addr + i, 10 + i);
      yield* pageout(mm, addr, 2);
      assert.equal(yield* load(mm, addr), 10);
      assert.deepEqual([...si.cache.keys()].sort(), [0, 1], 'slot 0: its neighbour 1');
    });
  });

  it('a swap-in with no free frame fails the fault with ENOMEM and leaves the slot as it was; it succeeds once memory is freed', () => {
    run(function* () {
      const { si, mm, addr, e } = yield* swappedPage(false, 1);
      const filler = yield* fillMemory();
      assert.equal(yield* load(mm, addr), ENOMEM);
      assert.equal(si.swap_map!.map[e.offset], 1, 'no SWAP_HAS_CACHE left behind');
      assert.equal(si.cache.size, 0);
      assert.deepEqual(swapPte(mm, addr), e);
      assert.equal(yield* vm_munmap(filler.mm, filler.addr, 1), 0);
      assert.equal(yield* load(mm, addr), 5);
    }, { frames: 8 });
  });
});
