/*
 * mm/vmscan.c (Linux 6.12) for the model: reclaim of anonymous folios to
 * swap. A kernel thread (kswapd) or MADV_PAGEOUT picks folios;
 * shrink_folio_list() locks each, gives it a slot in the swap cache, unmaps
 * it from every PTE (a pinned exclusive folio stays mapped), writes it out,
 * and frees it if it can freeze its refcount (nobody else holds a
 * reference). A lazyfree folio (MADV_FREE) gets no slot: once unmapped it is
 * freed unless it was re-dirtied (PGLAZYFREED). A THP cannot be swapped out
 * whole in the model: it is split first (split_folio), unless someone else
 * references it (can_split_folio), and its head page's folio reclaimed.
 */
import { bit_trylock, bit_unlock } from '../locking/bitlock.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import type { KGen } from '../sched/task.ts';
import { PG_anon, PG_dirty, PG_swapbacked, PG_swapcache, type Folio } from './mm_types.ts';
import { folio_put, folio_ref_freeze, folio_ref_unfreeze, folio_try_get, free_frozen_folio, lru_pick } from './page_alloc.ts';
import { swap_writepage } from './page_io.ts';
import { try_to_unmap } from './rmap.ts';
import { __delete_from_swap_cache, add_to_swap } from './swap_state.ts';
import { __filemap_remove_folio } from './filemap.ts';
import { shmem_folio, shmem_writeout } from './shmem.ts';
import { can_split_folio, split_folio } from './huge_memory.ts';
import { put_swap_folio, swp_swap_info } from './swapfile.ts';

/** is_page_cache_freeable(): only the isolation's reference and the swap cache's are left. */
function is_page_cache_freeable(folio: Folio): boolean {
  return folio._refcount === 2;
}

/**
 * shrink_folio_list() for one isolated folio.
 * We enter holding a reference on the folio (the isolation); we drop it.
 */
export function* shrink_folio(folio: Folio): KGen<boolean> {
  if (!(yield* bit_trylock(folio.lock))) {
    folio_put(folio);
    return false;
  }
  // [shmem] A page-cache folio, or one shmem_writeout() left in the swap cache.
  if (!(folio.flags & PG_anon)) return yield* shrink_shmem_folio(folio);
  let freed = false;
  keep: {
    if (!(folio.flags & PG_anon)) break keep;
    // [thp] The model reclaims small folios only (see the header): a THP is
    // split first, a lazyfree one too. Linux splits a swap-backed THP when
    // add_to_swap() of it fails (the model has no THP swap clusters) and
    // discards a lazyfree one whole, through try_to_unmap(TTU_SPLIT_HUGE_PMD)
    // (unmap_huge_pmd_locked, or the PMD split and its PTEs unmapped); here
    // the head's folio goes on and the tails, lazyfree as the head was, go
    // back to the LRU for a later pass.
    if (folio.order) {
      // cannot split folio, skip it
      if (!can_split_folio(folio, 1)) break keep; // activate_locked
      if (yield* split_folio(folio)) break keep; // activate_locked
    }
    // Anonymous process memory has backing store? Lazyfree folio could be freed directly.
    if (folio.flags & PG_swapbacked && !(folio.flags & PG_swapcache)) {
      if (!(yield* add_to_swap(folio))) break keep;
    }
    if (folio._mapcount > 0) {
      yield* try_to_unmap(folio);
      if (folio._mapcount > 0) break keep; // activate_locked: still mapped
    }
    if (!(folio.flags & PG_swapbacked)) {
      // Follow __remove_mapping for reference: only the isolation's reference may be left.
      if (!folio_ref_freeze(folio, 1)) break keep;
      // The folio has only one reference left, which is from the isolation.
      // A GUP reference taken before and dropped since may have redirtied it.
      if (folio.flags & PG_dirty) {
        folio_ref_unfreeze(folio, 1);
        break keep;
      }
      // count_vm_event(PGLAZYFREED)
      yield* bit_unlock(folio.lock);
      free_frozen_folio(folio);
      return true;
    }
    if (folio.flags & PG_dirty) {
      // pageout(): PAGE_KEEP unless is_page_cache_freeable(). Another
      // reference may still write to the page without dirtying it again
      // (exec's copy_strings() into the page get_arg_page() returned):
      // written out now, that write would be lost once the clean copy is
      // dropped from the swap cache.
      if (!is_page_cache_freeable(folio)) break keep;
      // pageout(): !mapping: PAGE_KEEP. An anon folio outside the swap cache
      // has none (folio_mapping): a lazyfree folio try_to_unmap_one() found
      // redirtied (it set PG_swapbacked again and left it mapped) that a
      // racing zap (exit, munmap, DONTNEED) unmapped behind it.
      if (!(folio.flags & PG_swapcache)) break keep;
      yield* swap_writepage(folio);
    }
    if (!(yield* __remove_mapping(folio))) break keep;
    freed = true;
  }
  if (!freed) {
    yield* bit_unlock(folio.lock);
    folio_put(folio);
  }
  return freed;
}

/**
 * __remove_mapping() for a folio in the swap cache: only our reference and
 * the swap cache's may be left (a pin or a racing lookup keeps it). On
 * success the folio leaves the swap cache, its slot is put, and it is freed.
 * We enter with the folio locked and holding the isolation's reference; on
 * success we return with both gone, on failure with both still held.
 */
function* __remove_mapping(folio: Folio): KGen<boolean> {
  const si = swp_swap_info(folio.swap!)!;
  yield* spin_lock(si.cache_lock);
  if (!folio_ref_freeze(folio, 2)) {
    yield* spin_unlock(si.cache_lock);
    return false;
  }
  const entry = folio.swap!;
  __delete_from_swap_cache(si, folio);
  yield* spin_unlock(si.cache_lock);
  yield* put_swap_folio(entry);
  yield* bit_unlock(folio.lock);
  free_frozen_folio(folio);
  return true;
}

/**
 * shrink_folio_list() for a shmem folio (swapbacked, not anon): unmapped
 * from every file PTE (try_to_unmap over i_mmap, which moves the PTEs'
 * dirty bits to the folio). A dirty one is written out by pageout():
 * folio_clear_dirty_for_io() (shmem cannot write back, mapping_can_writeback
 * is false: no folio_mkclean, the flag is only cleared) and the mapping's
 * writeout (shmem_writeout: the folio leaves the page cache for the swap
 * cache, its swap entry taking its place in i_pages), then freed from the
 * swap cache if nobody else holds a reference. A clean one (never written
 * since it was added as a zeroed hole) is dropped from the page cache
 * (__remove_mapping): the next fault finds a hole again. A folio that the
 * isolation and the page cache are not the only ones to reference (a pin, a
 * racing lookup) is kept.
 * We enter with the folio locked and holding the isolation's reference; we
 * unlock it and drop that.
 */
function* shrink_shmem_folio(folio: Folio): KGen<boolean> {
  let freed = false;
  keep: {
    if (folio.f_mapping) {
      if (folio._mapcount > 0) {
        yield* try_to_unmap(folio);
        if (folio._mapcount > 0) break keep; // activate_locked: still mapped
      }
      if (!(folio.flags & PG_dirty)) return yield* __remove_mapping_file(folio);
      // pageout(): PAGE_KEEP unless is_page_cache_freeable().
      if (!is_page_cache_freeable(folio)) break keep;
      folio.flags &= ~PG_dirty; // folio_clear_dirty_for_io()
      if (!(yield* shmem_writeout(folio))) break keep; // AOP_WRITEPAGE_ACTIVATE: redirtied
    }
    if (!(folio.flags & PG_swapcache)) break keep;
    if (!(yield* __remove_mapping(folio))) break keep;
    freed = true;
  }
  if (!freed) {
    yield* bit_unlock(folio.lock);
    folio_put(folio);
  }
  return freed;
}

/**
 * __remove_mapping() for a clean page-cache folio: under the mapping's
 * xa_lock, freeze the refcount at the isolation's and the page cache's
 * references (a pin or a racing lookup keeps the folio), recheck that it is
 * still clean (a PTE's dirty bit, or a pinned device's write, dirtied it),
 * and delete it from the page cache; then it is freed. True if freed.
 * We enter with the folio locked and unmapped, holding the isolation's
 * reference; we return with the lock and that reference gone either way.
 */
function* __remove_mapping_file(folio: Folio): KGen<boolean> {
  const mapping = folio.f_mapping!;
  yield* spin_lock(mapping.xa_lock);
  let freed = false;
  if (folio_ref_freeze(folio, 2)) {
    if (folio.flags & PG_dirty) folio_ref_unfreeze(folio, 2);
    else {
      __filemap_remove_folio(folio);
      freed = true;
    }
  }
  yield* spin_unlock(mapping.xa_lock);
  yield* bit_unlock(folio.lock);
  if (freed) free_frozen_folio(folio);
  else folio_put(folio);
  return freed;
}

/**
 * What kswapd scans: the anon folios in use, in pfn order; `victim` picks
 * one (modulo their number), so a program names its victim deterministically.
 * Simplification: lazyfree folios are picked the same way (Linux has them on
 * the inactive file LRU, lru_lazyfree_fn).
 */
/** One reclaim pass of kswapd: isolate the chosen folio and try to reclaim it. */
export function* kswapd_reclaim(victim: number): KGen<boolean> {
  yield 'isolate_lru_folios';
  const folio = lru_pick(victim, (f) => f._mapcount > 0 || (f.flags & PG_swapcache) !== 0 || shmem_folio(f));
  if (!folio || !folio_try_get(folio)) return false;
  return yield* shrink_folio(folio);
}
