import assert from 'node:assert/strict';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { SWAP_HAS_CACHE } from '../../../engine/mm/swap.ts';
import { sys_swapoff, get_swap_device } from '../../../engine/mm/swapfile.ts';
import { folioAt, load, mapped, pteAt, store } from '../harness.ts';
import { swapon, pageout, swapPageAt, swapPte, swappedPage, type Ctx, race } from './swapfile.setup.ts';

describe('engine/mm/swapfile: swapoff and swap-in races (swapfile.ts, swap_state.ts)', () => {
  it('swapoff holding a swap cache folio while DONTNEED zaps its PTE: unuse_pte finds no swap PTE, and folio_free_swap a folio already out of the swap cache', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(true);
        assert.ok(c.folio);
        const free0 = machine().mem.nr_free();
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.equal(pteAt(c.mm, c.addr)!.kind, 'none', 'not brought back over the zap');
        assert.equal(machine().mem.nr_free(), free0 + 1, 'the folio swapoff held is freed');
        assert.equal(yield* load(c.mm, c.addr), 0);
      },
      *T1() {
        assert.equal(yield* do_madvise(c!.mm, c!.addr, 1, 'DONTNEED'), 0);
        assert.equal(c!.si.swap_map!.map[c!.e.offset], 0, 'slot and swap cache freed by the zap');
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l === c.folio!.lock.lockLabel, to: 'T1' }]);
  });

  it('swapoff holding a swap cache folio while its page is zapped, rewritten and swapped to another device at the same offset: unuse_pte leaves that entry alone', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(true);
        const other = yield* swapon(4);
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.deepEqual(swapPte(c.mm, c.addr), { kind: 'swap', type: other.type, offset: c.e.offset, exclusive: true });
        assert.equal(other.swap_map!.map[c.e.offset], 1);
        assert.equal(yield* load(c.mm, c.addr), 9);
      },
      *T1() {
        assert.equal(yield* do_madvise(c!.mm, c!.addr, 1, 'DONTNEED'), 0);
        assert.equal(yield* store(c!.mm, c!.addr, 9), 0);
        yield* pageout(c!.mm, c!.addr);
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l === c.folio!.lock.lockLabel, to: 'T1' }]);
  });

  it('swapoff finding the slot of a swap PTE it read freed meanwhile by a zap skips it (swap_map 0), and succeeds', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(false);
        assert.equal(c.folio, undefined);
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.equal(pteAt(c.mm, c.addr)!.kind, 'none');
        assert.equal(yield* load(c.mm, c.addr), 0);
      },
      *T1() {
        assert.equal(yield* do_madvise(c!.mm, c!.addr, 1, 'DONTNEED'), 0);
        assert.equal(c!.si.swap_map!.map[c!.e.offset], 0);
        assert.equal(c!.si.inuse_pages, 0);
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l === 'get_swap_device: percpu_ref_tryget_live', to: 'T1' }]);
  });

  it('a page reclaimed behind swapoff while it drops the swap cache is brought back by the retry; the freed cache folio is skipped', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(false);
        const next = (yield* swapPageAt(c.mm, c.addr + 1, 6)).offset;
        assert.equal(next, c.e.offset + 1);
        // Read faults map them back and leave both in the swap cache (readahead brings in the neighbour).
        assert.deepEqual([yield* load(c.mm, c.addr), yield* load(c.mm, c.addr + 1)], [5, 6]);
        assert.equal(c.si.cache.size, 2);
        assert.deepEqual(c.si.swap_map!.map.slice(0, 2), [SWAP_HAS_CACHE, SWAP_HAS_CACHE]);
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.deepEqual([pteAt(c.mm, c.addr)!.kind, pteAt(c.mm, c.addr + 1)!.kind], ['present', 'present']);
        assert.deepEqual([yield* load(c.mm, c.addr), yield* load(c.mm, c.addr + 1)], [5, 6]);
      },
      *T1() {
        // Reclaim of the other page (the first the sweep meets): unmapped to its old slot, then freed.
        const free0 = machine().mem.nr_free();
        yield* pageout(c!.mm, c!.addr + 1);
        assert.equal(swapPte(c!.mm, c!.addr + 1).offset, c!.e.offset + 1);
        assert.equal(machine().mem.nr_free(), free0 + 1);
        assert.equal(c!.si.cache.has(c!.e.offset + 1), false);
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l === 'try_to_unuse: filemap_get_folio', to: 'T1' }]);
  });

  it('a fault that pins the device only after swapoff has waited for its users is refused (percpu_ref_kill) and retries against the page swapoff mapped', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(false);
        yield 'setup done';
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.equal(c.si.users, 0, 'no get_swap_device() user outlives swapoff');
      },
      *T1() {
        assert.equal(yield* load(c!.mm, c!.addr), 5);
        assert.equal(pteAt(c!.mm, c!.addr)!.kind, 'present');
      },
    }, [
      // The fault reads the swap PTE, then swapoff runs up to freeing the swap_map...
      { from: 'T0', at: 'setup done', to: 'T1' },
      { from: 'T1', at: 'get_swap_device: percpu_ref_tryget_live', to: 'T0' },
      // ...where the fault gets its turn to pin the device...
      { from: 'T0', at: (l) => c !== undefined && l === 'spin_lock(swap_lock)', nth: 2, to: 'T1' },
      // ...and, had it got it, would still be reading the swap_map when swapoff frees it.
      { from: 'T1', at: 'read_swap_cache_async: filemap_get_folio', to: 'T0', optional: true },
    ]);
  });

  it('two threads fault the same swapped page: the second finds the slot claimed (-EEXIST) by the first, waits, and maps the same page', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(false);
        assert.equal(yield* load(c.mm, c.addr), 5);
      },
      *T1() {
        assert.equal(c!.si.swap_map!.map[c!.e.offset], 1 | SWAP_HAS_CACHE, 'claimed by T0, not yet in the swap cache');
        assert.equal(c!.si.cache.size, 0);
        assert.equal(yield* load(c!.mm, c!.addr), 5);
        assert.equal(c!.si.cache.size, 1, 'one folio for the slot');
        assert.equal(folioAt(c!.mm, c!.addr), c!.si.cache.get(c!.e.offset));
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l.startsWith('lock(folio_lock'), to: 'T1' }]);
  });
});
