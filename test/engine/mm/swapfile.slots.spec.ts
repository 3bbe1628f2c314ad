import assert from 'node:assert/strict';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { bit_trylock } from '../../../engine/locking/bitlock.ts';
import { PG_anon_exclusive, PG_swapcache, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { folio_alloc, folio_get } from '../../../engine/mm/page_alloc.ts';
import { SWAP_MAP_MAX, swp_entry } from '../../../engine/mm/swap.ts';
import { add_to_swap_cache, delete_from_swap_cache } from '../../../engine/mm/swap_state.ts';
import { swap_duplicate, swap_free, sys_swapoff } from '../../../engine/mm/swapfile.ts';
import { folioAt, load, mapped, pteAt, run, store, violates } from '../harness.ts';
import { ENOMEM, swapon, pageout, swapPte, swappedPage } from './swapfile.setup.ts';

describe('engine/mm/swapfile: swap slots and counts (swapfile.ts)', () => {
  it('folio_alloc_swap takes a slot on the first device with room, and only one; a full device spills onto the next; with all full nothing is swapped', () => {
    run(function* () {
      const a = yield* swapon(1);
      const b = yield* swapon(2);
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      yield* pageout(mm, addr);
      assert.deepEqual(swapPte(mm, addr), { kind: 'swap', type: a.type, offset: 0, exclusive: true });
      assert.deepEqual([a.inuse_pages, b.inuse_pages], [1, 0], 'one slot, on the first device');
      assert.deepEqual(b.swap_map!.map, [0, 0]);
      yield* pageout(mm, addr + 1, 2);
      assert.deepEqual([swapPte(mm, addr + 1), swapPte(mm, addr + 2)].map((e) => [e.type, e.offset]), [[b.type, 0], [b.type, 1]]);
      assert.deepEqual([a.inuse_pages, b.inuse_pages], [1, 2]);
      assert.deepEqual(a.swap_map!.map, [1]);
      assert.deepEqual(b.swap_map!.map, [1, 1]);
      yield* pageout(mm, addr + 3);
      assert.equal(pteAt(mm, addr + 3)!.kind, 'present', 'no slot left anywhere');
      for (let i = 0; i < 4; i++) assert.equal(yield* load(mm, addr + i), i + 1);
    });
  });

  it('swap_duplicate refuses a free slot and a count at SWAP_MAP_MAX (no continuation in the model): fork then fails with ENOMEM and its child gives its references back', () => {
    run(function* () {
      const si = yield* swapon(4);
      assert.ok((yield* swap_duplicate(swp_entry(si.type, 2))) < 0, 'a free slot');
      assert.equal(si.swap_map!.map[2], 0, 'and it stays free');
      assert.equal(si.inuse_pages, 0);
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 7);
      yield* pageout(mm, addr);
      const e = swapPte(mm, addr);
      const children: MmStruct[] = [];
      for (let i = 1; i < SWAP_MAP_MAX; i++) {
        const c = yield* dup_mm(mm, `C${i}`);
        assert.ok(typeof c !== 'number', `fork ${i}: ${c}`);
        children.push(c);
      }
      assert.equal(si.swap_map!.map[e.offset], SWAP_MAP_MAX);
      assert.equal(yield* dup_mm(mm, 'one too many'), ENOMEM);
      assert.equal(si.swap_map!.map[e.offset], SWAP_MAP_MAX, 'the failed fork took nothing');
      assert.ok((yield* swap_duplicate(swp_entry(si.type, e.offset))) < 0);
      for (const c of children) yield* mmput(c);
      assert.equal(si.swap_map!.map[e.offset], 1);
      assert.equal(yield* load(mm, addr), 7);
    });
  });

  it('BUG_ON: swap_free of a free slot; add_to_swap_cache of a folio already cached; deleting a folio the cache does not hold at its entry', () => {
    violates(function* () {
      const si = yield* swapon(4);
      yield* swap_free(swp_entry(si.type, 1));
    }, 'kernel-bug', /swap_free/);
    violates(function* () {
      const { si, folio } = yield* swappedPage(true);
      const f = folio!;
      assert.ok(yield* bit_trylock(f.lock));
      yield* add_to_swap_cache(f, swp_entry(si.type, 3));
    }, 'kernel-bug', /add_to_swap_cache/);
    violates(function* () {
      const { e } = yield* swappedPage(true);
      // Another folio that claims the slot the cache gives to the first.
      const impostor = folio_alloc()!;
      assert.ok(yield* bit_trylock(impostor.lock));
      impostor.flags |= PG_swapcache;
      impostor.swap = swp_entry(0, e.offset);
      yield* delete_from_swap_cache(impostor);
    }, 'kernel-bug', /__delete_from_swap_cache/);
    // A folio kept in the swap cache by reclaim (an extra reference stopped the
    // free) is anon and no longer exclusive; swapoff maps it back per PTE.
    violates(function* () {
      const si = yield* swapon(4);
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      const f = folioAt(mm, addr);
      folio_get(f);
      yield* pageout(mm, addr);
      assert.equal(si.cache.get(swapPte(mm, addr).offset), f);
      assert.equal(f.flags & PG_anon_exclusive, 0);
      f.flags |= PG_anon_exclusive;
      yield* sys_swapoff(si.type);
    }, 'kernel-bug', /unuse_pte/);
  });
});
