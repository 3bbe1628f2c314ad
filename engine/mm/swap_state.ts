/*
 * mm/swap_state.c (Linux 6.12) for the model: the swap cache (added to and deleted from
 * under the folio lock), add_to_swap(), read_swap_cache_async() and swapin
 * readahead. Readahead refuses a device that is being removed: it pins the
 * device with get_swap_device() before it reads the swap_map.
 */
import { bit_trylock, bit_unlock } from '../locking/bitlock.ts';
import { synchronize_rcu } from '../locking/rcu.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import { BUG_ON } from '../kernel/current.ts';
import { schedule_timeout_uninterruptible } from '../sched/cond_resched.ts';
import type { KGen } from '../sched/task.ts';
import { kfree } from './kasan.ts';
import { PG_dirty, PG_swapcache, type Folio } from './mm_types.ts';
import { folio_alloc, folio_put, folio_try_get } from './page_alloc.ts';
import { swap_read_folio } from './page_io.ts';
import { SWAP_HAS_CACHE, swp_entry, type SwapInfo, type SwpEntry } from './swap.ts';
import { folio_alloc_swap, get_swap_device, put_swap_device, put_swap_folio, swapcache_prepare, swp_swap_info } from './swapfile.ts';

/** swap_cache_get_folio(): the cached folio for the slot, with a reference, or undefined. */
export function swap_cache_get_folio(si: SwapInfo, offset: number): Folio | undefined {
  const folio = si.cache.get(offset);
  if (!folio || !folio_try_get(folio)) return undefined;
  return folio;
}

/**
 * add_to_swap_cache(): the folio now stands for the slot.
 * We enter with the folio locked and the slot claimed (SWAP_HAS_CACHE).
 */
export function* add_to_swap_cache(folio: Folio, entry: SwpEntry): KGen<number> {
  BUG_ON(!folio.lock.isLocked(), 'add_to_swap_cache', `${folio.kname} not locked`);
  BUG_ON((folio.flags & PG_swapcache) !== 0, 'add_to_swap_cache', `${folio.kname} already in the swap cache`);
  const si = swp_swap_info(entry)!;
  yield* spin_lock(si.cache_lock);
  folio._refcount++; // the swap cache's reference
  folio.flags |= PG_swapcache;
  folio.swap = entry;
  si.cache.set(entry.offset, folio);
  yield* spin_unlock(si.cache_lock);
  return 0;
}

/**
 * delete_from_swap_cache(): the folio leaves the swap cache and gives the
 * slot's cache claim back. We enter with the folio locked.
 */
export function* delete_from_swap_cache(folio: Folio): KGen {
  BUG_ON(!folio.lock.isLocked(), 'delete_from_swap_cache', `${folio.kname} not locked`);
  const entry = folio.swap!;
  const si = swp_swap_info(entry)!;
  yield* spin_lock(si.cache_lock);
  __delete_from_swap_cache(si, folio);
  yield* spin_unlock(si.cache_lock);
  yield* put_swap_folio(entry);
  folio_put(folio); // the swap cache's reference
}

/** We enter with the folio locked and the swap cache's i_pages lock held. */
export function __delete_from_swap_cache(si: SwapInfo, folio: Folio): void {
  const entry = folio.swap!;
  BUG_ON(si.cache.get(entry.offset) !== folio, '__delete_from_swap_cache', `${folio.kname} is not the cached folio of ${entry.type}:${entry.offset}`);
  si.cache.delete(entry.offset);
  folio.flags &= ~PG_swapcache;
  folio.swap = undefined;
}

/**
 * add_to_swap(): give an anon folio a slot and put it in the swap cache, so
 * that reclaim can unmap it into swap entries.
 * We enter with the folio locked; false if no slot could be had.
 */
export function* add_to_swap(folio: Folio): KGen<boolean> {
  const entry = yield* folio_alloc_swap(folio);
  if (!entry) return false;
  const err = yield* add_to_swap_cache(folio, entry);
  if (err) {
    yield* put_swap_folio(entry);
    return false;
  }
  // Normally the folio will be dirtied in unmap because its pte should be
  // dirty; make sure it is written out in any case.
  folio.flags |= PG_dirty;
  return true;
}

/**
 * read_swap_cache_async(): the swap cache's folio for the entry, reading it
 * in if needed, with a reference; undefined if the slot is unused or the
 * device is being removed (or no memory). The reader holds the new folio's
 * lock until its contents are in, so a concurrent swapoff, which locks each
 * cached folio, waits for the read.
 */
export function* read_swap_cache_async(entry: SwpEntry): KGen<Folio | undefined> {
  const si = yield* get_swap_device(entry);
  if (!si) return undefined;
  let fresh: Folio | undefined;
  for (;;) {
    // First check the swap cache.
    yield 'read_swap_cache_async: filemap_get_folio';
    const cached = swap_cache_get_folio(si, entry.offset);
    if (cached) {
      put_swap_device(si);
      return cached;
    }
    // Just skip read ahead for unused swap slot.
    const v = si.swap_map!.map[entry.offset]!;
    if ((v & ~SWAP_HAS_CACHE) === 0) {
      put_swap_device(si);
      return undefined;
    }
    fresh = folio_alloc();
    if (!fresh) {
      put_swap_device(si);
      return undefined;
    }
    // Swap entry may have been freed since our caller observed it.
    const err = yield* swapcache_prepare(entry);
    if (!err) break;
    folio_put(fresh);
    fresh = undefined;
    if (err !== -17) {
      put_swap_device(si);
      return undefined;
    }
    // -EEXIST: someone else is adding it to the cache; let them finish.
    yield* schedule_timeout_uninterruptible();
  }
  // The swap entry is ours to swap in. Prepare the new folio (nobody sees it yet).
  yield* bit_trylock(fresh.lock);
  yield* add_to_swap_cache(fresh, entry);
  put_swap_device(si);
  // swap_read_folio(): the "I/O" happens under the folio lock; completion unlocks.
  yield* swap_read_folio(fresh, entry);
  yield* bit_unlock(fresh.lock);
  return fresh;
}

/**
 * swapin_readahead(): read the slot and its neighbours into the swap cache
 * (swap_cluster_readahead), and return the faulting one.
 */
export function* swapin_readahead(entry: SwpEntry): KGen<Folio | undefined> {
  const si = swp_swap_info(entry);
  if (si) {
    for (const off of [entry.offset - 1, entry.offset + 1]) {
      if (off < 0 || off >= si.max) continue;
      const f = yield* read_swap_cache_async(swp_entry(entry.type, off));
      if (f) folio_put(f);
    }
  }
  return yield* read_swap_cache_async(entry);
}

/**
 * exit_swap_address_space(): swapper_spaces[type] = NULL,
 * then the lockless swap cache readers (under RCU) leave before the address
 * space is freed.
 */
export function* exit_swap_address_space(si: SwapInfo): KGen {
  const spaces = si.swapper_space!;
  si.swapper_space = undefined;
  yield* synchronize_rcu();
  kfree(spaces); // kvfree(spaces)
}

