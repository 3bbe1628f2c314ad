/*
 * mm/filemap.c for the model (Linux 6.16): the page-cache lookups shmem
 * uses (filemap_get_entry, find_lock_entries, find_get_entries) and the
 * removal of a folio from the page cache (filemap_remove_folio, and
 * __filemap_remove_folio for reclaim's __remove_mapping). Lookups
 * walk i_pages under RCU, without the xa_lock: a folio they find may be
 * freed or removed meanwhile, so they take a speculative reference and look
 * again (xas_reload), and callers recheck folio->mapping under the folio
 * lock. Batches are unbounded (PAGEVEC_SIZE is more than a model file holds).
 */
import { bit_trylock, bit_unlock } from '../locking/bitlock.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import { BUG_ON, WARN_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { xa_is_value, type AddressSpace, type XaValue } from '../fs/fs.ts';
import type { Folio } from './mm_types.ts';
import { folio_put, folio_try_get } from './page_alloc.ts';

/** A batch of page-cache entries and their indices; `next` is where the next lookup starts. */
export interface EntryBatch {
  readonly entries: (Folio | XaValue)[];
  readonly indices: number[];
  next: number;
}

/**
 * filemap_get_entry(): the entry at `index`: a folio with a reference, a
 * value entry (shmem's swap), or undefined.
 */
export function* filemap_get_entry(mapping: AddressSpace, index: number): KGen<Folio | XaValue | undefined> {
  for (;;) {
    // repeat:
    yield 'filemap_get_entry: xas_load';
    const folio = mapping.i_pages[index];
    if (!folio || xa_is_value(folio)) return folio;
    if (!folio_try_get(folio)) continue;
    yield 'filemap_get_entry: xas_reload';
    if (mapping.i_pages[index] !== folio) {
      folio_put(folio);
      continue;
    }
    return folio;
  }
}

/**
 * find_get_entry() over [start, end]: every entry, the folios referenced.
 * `lock`: find_lock_entries(), which trylocks each folio and leaves out
 * those it cannot lock or that left the mapping.
 */
function* find_entries(mapping: AddressSpace, start: number, end: number, lock: boolean): KGen<EntryBatch> {
  const batch: EntryBatch = { entries: [], indices: [], next: start };
  yield lock ? 'find_lock_entries: xas_find' : 'find_get_entries: xas_find';
  const last = Math.min(end, mapping.i_pages.length - 1);
  for (let i = start; i <= last; i++) {
    const entry = mapping.i_pages[i];
    if (!entry) continue;
    batch.next = i + 1;
    if (xa_is_value(entry)) {
      batch.entries.push(entry);
      batch.indices.push(i);
      continue;
    }
    if (!folio_try_get(entry)) continue;
    if (mapping.i_pages[i] !== entry) {
      folio_put(entry);
      continue;
    }
    if (lock) {
      if (!(yield* bit_trylock(entry.lock))) {
        folio_put(entry);
        continue;
      }
      if (entry.f_mapping !== mapping) {
        yield* bit_unlock(entry.lock);
        folio_put(entry);
        continue;
      }
    }
    batch.entries.push(entry);
    batch.indices.push(i);
  }
  return batch;
}

/** find_lock_entries(): the entries of [start, end], folios locked and referenced. */
export function find_lock_entries(mapping: AddressSpace, start: number, end: number): KGen<EntryBatch> {
  return find_entries(mapping, start, end, true);
}

/** find_get_entries(): the entries of [start, end], folios referenced. */
export function find_get_entries(mapping: AddressSpace, start: number, end: number): KGen<EntryBatch> {
  return find_entries(mapping, start, end, false);
}

/**
 * filemap_remove_folio(): the folio leaves the page cache, which drops its
 * reference. A folio still mapped here is "Bad page cache" (a pr_alert and
 * a taint, not a BUG: the model records a WARN).
 * We enter with the folio locked.
 */
export function* filemap_remove_folio(folio: Folio): KGen {
  const mapping = folio.f_mapping!;
  BUG_ON(!folio.lock.isLocked(), 'filemap_remove_folio', `${folio.kname} not locked`);
  yield* spin_lock(mapping.xa_lock);
  __filemap_remove_folio(folio);
  yield* spin_unlock(mapping.xa_lock);
  folio_put(folio); // filemap_free_folio()
}

/**
 * __filemap_remove_folio(): filemap_unaccount_folio(), page_cache_delete():
 * the folio leaves i_pages; the page cache's reference is the caller's to
 * drop (or, from reclaim's __remove_mapping, already frozen away).
 * We enter with the folio locked and the mapping's xa_lock held.
 */
export function __filemap_remove_folio(folio: Folio): void {
  const mapping = folio.f_mapping!;
  WARN_ON(folio._mapcount > 0, 'filemap_unaccount_folio', `Bad page cache: ${folio.kname} still mapped when deleted`);
  BUG_ON(mapping.i_pages[folio.index] !== folio, 'page_cache_delete', `${folio.kname} not at index ${folio.index} of ${mapping.host.name}`);
  mapping.i_pages[folio.index] = undefined;
  folio.f_mapping = undefined;
}
