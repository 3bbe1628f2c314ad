/*
 * mm/migrate.c for the model: migration of an anon folio, or of a shmem
 * page-cache folio (Linux 6.16: shmem_aops.migrate_folio is the generic
 * migrate_folio, its __folio_migrate_mapping() moving the i_pages slot under
 * the xa_lock once the refcount freezes at what it expects), by a kernel
 * thread (kcompactd). The old folio is locked for the whole migration; its PTEs are
 * replaced by migration entries (try_to_migrate), the contents copied to a
 * new folio, and the entries replaced by PTEs to the new one
 * (remove_migration_ptes). A fault that meets a migration entry waits on the
 * old folio's lock (migration_entry_wait).
 *
 * A PMD-mapped THP moves whole (CONFIG_ARCH_ENABLE_THP_MIGRATION): its PMD
 * becomes a PMD migration entry (set_pmd_migration_entry) and then a PMD of
 * the new THP (remove_migration_pmd); a THP whose PMD was split has one
 * migration entry per PTE. When no THP is free to move it to (-ENOMEM),
 * kcompactd splits it (try_split_folio) and migrates its head page's folio.
 * The same PTE migration entries serve split_huge_page (try_to_migrate with
 * TTU_SPLIT_HUGE_PMD, remove_migration_ptes of each new folio).
 *
 * rmap must find every PTE mapping the folio at all times, or a migration
 * entry is left behind (seed 000): exec's temporary stack, whose page tables
 * move while rmap computes addresses in the new range, is skipped; mremap and
 * fork rely on rmap traversal order or take the anon_vma lock.
 */
import { bit_lock, bit_trylock, bit_unlock } from '../locking/bitlock.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import { BUG_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import {
  PG_anon,
  PG_swapbacked,
  PG_anon_exclusive,
  PG_dirty,
  PG_swapcache,
  PTE_NONE,
  VM_STACK_INCOMPLETE_SETUP,
  ZERO_PFN,
  mk_pte,
  vma_is_accessible,
  type AnonVma,
  type Folio,
  type PteMigration,
  type PteTable,
  type VmArea,
} from './mm_types.ts';
import { folio_alloc, folio_alloc_large, folio_get, folio_put, folio_ref_freeze, folio_ref_unfreeze, folio_try_get, lru_pick, pfn_to_page } from './page_alloc.ts';
import { remove_migration_pmd, set_pmd_migration_entry, split_folio, split_huge_pmd_address } from './huge_memory.ts';
import { mm_forbids_zeropage, ptep_get, set_pte_at } from './pgtable.ts';
import {
  PVMW_MIGRATION,
  PageAnonExclusive,
  folio_add_anon_rmap_pte,
  folio_add_anon_rmap_ptes,
  folio_add_file_rmap_ptes,
  folio_get_anon_vma,
  folio_lock_anon_vma_read,
  folio_remove_rmap_pte,
  folio_test_anon,
  folio_try_share_anon_rmap_pte,
  page_vma_mapped_walk,
  page_vma_mapped_walk_done,
  put_anon_vma,
  rmap_one_replace,
  rmap_one_restore,
  rmap_walk,
  type PageVmaMappedWalk,
} from './rmap.ts';
import { swp_swap_info } from './swapfile.ts';
import { shmem_folio } from './shmem.ts';
import type { AddressSpace } from '../fs/fs.ts';

/**
 * invalid_migration_vma(): exec's temporary stack. Its page tables are moved
 * (relocate_vma_down) while rmap already computes addresses in the new range:
 * a migration entry placed there could not be found again.
 */
export function invalid_migration_vma(vma: VmArea): boolean {
  return (vma.vm_flags & VM_STACK_INCOMPLETE_SETUP) === VM_STACK_INCOMPLETE_SETUP;
}

/**
 * try_to_migrate_one(): replace one PTE of the folio by a migration entry
 * that remembers write and exclusivity. An exclusive page that may be pinned
 * cannot be marked shared: the PTE is put back and migration fails. A THP
 * mapped by a PMD gets a PMD migration entry (set_pmd_migration_entry), which
 * fails the same way.
 * We enter with the folio locked and its anon_vma read-locked.
 */
function try_to_migrate_one(flags: number): (folio: Folio, vma: VmArea, address: number) => KGen<boolean> {
  return function* try_to_migrate_one(folio: Folio, vma: VmArea, address: number): KGen<boolean> {
    // unmap_folio() in mm/huge_memory.c is the only user of migration with
    // TTU_SPLIT_HUGE_PMD and it wants to freeze.
    if (flags & TTU_SPLIT_HUGE_PMD) yield* split_huge_pmd_address(vma, address, true, folio);
    // while (page_vma_mapped_walk(&pvmw)): each PTE of the folio in this VMA.
    for (const a of folio_addresses_in_vma(folio, vma, address)) {
      const pvmw: PageVmaMappedWalk = { folio, vma, address: a, flags: 0 };
      if (!(yield* page_vma_mapped_walk(pvmw))) continue;
      // PMD-mapped THP migration entry
      if (pvmw.pmd_ptl) {
        BUG_ON(!folio.order, 'try_to_migrate_one', `small ${folio.kname} mapped by a PMD`);
        const failed = yield* set_pmd_migration_entry(pvmw, pvmw.page!);
        yield* page_vma_mapped_walk_done(pvmw);
        // The PMD covers every page of the folio in this VMA: the walk is over.
        return !failed;
      }
      const table = pvmw.table!;
      const subpage = pvmw.page!;
      const pteval = ptep_get(table, a);
      BUG_ON(pteval.kind !== 'present', 'try_to_migrate_one', 'not a present PTE');
      const anon_exclusive = folio_test_anon(folio) && PageAnonExclusive(subpage);
      // ptep_clear_flush(): GUP-fast may have grabbed the page before this.
      set_pte_at(table, a, PTE_NONE);
      yield 'try_to_migrate_one: ptep_clear_flush done';
      BUG_ON(pteval.kind === 'present' && pteval.write && folio_test_anon(folio) && !anon_exclusive, 'try_to_migrate_one', 'writable PTE to a non-exclusive anon page');
      // Set the dirty flag on the folio now the PTE is gone (a page-cache folio's store dirtied the PTE alone).
      if (pteval.kind === 'present' && pteval.dirty) folio.flags |= PG_dirty; // folio_mark_dirty()
      // See folio_try_share_anon_rmap_pte(): clear PTE first.
      if (anon_exclusive && folio_try_share_anon_rmap_pte(folio, subpage)) return yield* rmap_one_restore(pvmw, pteval);
      const write = pteval.kind === 'present' && pteval.write;
      const entry: PteMigration = { kind: 'migration', pfn: subpage.pfn, mode: write ? 'write' : anon_exclusive ? 'read-exclusive' : 'read' };
      yield* rmap_one_replace(pvmw, entry);
    }
    return true;
  };
}

/**
 * The addresses at which the folio's pages sit in the VMA, from the first
 * one (`address`, where rmap_walk found it) on: one for a small folio; for a
 * large one every page the VMA covers (what page_vma_mapped_walk steps through).
 */
export function folio_addresses_in_vma(folio: Folio, vma: VmArea, address: number): number[] {
  if (!folio.order) return [address];
  const first = address - vma.vm_start + vma.vm_pgoff - folio.index;
  const out: number[] = [];
  for (let i = first; i < 1 << folio.order && address + (i - first) < vma.vm_end; i++) out.push(address + (i - first));
  return out;
}

/** TTU_SPLIT_HUGE_PMD: split a huge PMD that maps the folio first (with freeze: into migration entries). */
export const TTU_SPLIT_HUGE_PMD = 1 << 2;
/** TTU_RMAP_LOCKED: the caller holds the anon_vma lock (rmap_walk_locked). */
export const TTU_RMAP_LOCKED = 1 << 7;
/** RMP_LOCKED: remove_migration_ptes() with the anon_vma lock held. */
export const RMP_LOCKED = 1 << 0;

/** try_to_migrate(): migration entries everywhere rmap finds the folio. We enter with the folio locked. */
export function* try_to_migrate(folio: Folio, flags = 0): KGen {
  yield* rmap_walk(folio, {
    rmap_one: try_to_migrate_one(flags),
    done: (f) => f._mapcount === 0,
    anon_lock: folio_lock_anon_vma_read,
    locked: (flags & TTU_RMAP_LOCKED) !== 0,
    // During exec, a temporary VMA is set up and later moved. The VMA is moved
    // under the anon_vma lock but not the page tables leading to a race where
    // migration cannot find the migration ptes. Rather than increasing the
    // locking requirements of exec(), migration skips temporary VMAs until
    // after exec() completes.
    invalid_vma: invalid_migration_vma,
  });
}

/**
 * RMP_USE_SHARED_ZEROPAGE (b1f202060afe, Linux 6.12): a split of an anon
 * THP maps each subpage that holds only zeroes to the shared zero page
 * instead of back to itself (remap_page after __split_huge_page).
 */
export const RMP_USE_SHARED_ZEROPAGE = 1 << 1;

/**
 * try_to_map_unused_to_zeropage(): the migration entry of a just-split
 * subpage becomes a special PTE of the zero page if the page holds only
 * zeroes. The entry held no mapping and no reference, so nothing is
 * unmapped: once remap_page() is done the subpage's folio has no mapping
 * and __split_huge_page()'s folio_put() of the tail frees it. A page
 * nobody could have written is read back as zero either way; one that was
 * written with zeroes is too, so nothing user space can see changes, only
 * where it lives (and PG_anon_exclusive, which the zero page never has: a
 * later write COWs from it, as after do_anonymous_page's read fault).
 * Can split_huge_page race a pin here? No: can_split_folio() refused a
 * folio with extra references and the refcount is frozen until the remap,
 * so GUP-fast (gup_fast_pte_range's folio_try_get) cannot have taken the
 * subpage in between.
 * Not modelled: mlock (the model has no VM_LOCKED or PG_mlocked),
 * hwpoison, soft-dirty and uffd-wp bits.
 * We enter with the folio locked, small (the split is done), and the PTE
 * lock of the migration entry held.
 */
function try_to_map_unused_to_zeropage(pvmw: PageVmaMappedWalk, folio: Folio, table: PteTable, address: number): boolean {
  BUG_ON(folio.order !== 0, 'try_to_map_unused_to_zeropage', `${folio.kname} is compound`);
  BUG_ON(!folio_test_anon(folio), 'try_to_map_unused_to_zeropage', `${folio.kname} is not anon`);
  BUG_ON(!folio.lock.isLocked(), 'try_to_map_unused_to_zeropage', `${folio.kname} is not locked`);
  if (mm_forbids_zeropage(pvmw.vma.vm_mm)) return false;
  // The pmd entry mapping the old thp was flushed and the pte mapping this
  // subpage has been non present. If the subpage is only zero-filled then
  // map it to the shared zeropage (memchr_inv).
  if (folio.data.some((w) => w !== 0)) return false;
  // pte_mkspecial(pfn_pte(my_zero_pfn(pvmw->address), pvmw->vma->vm_page_prot))
  set_pte_at(table, address, mk_pte(ZERO_PFN, false, false, !vma_is_accessible(pvmw.vma)));
  // dec_mm_counter(): the model keeps no RSS counters.
  return true;
}

/**
 * remove_migration_pte(): put the new folio where rmap finds a migration
 * entry for the old one, with the write and exclusive bits the entry kept.
 * With RMP_USE_SHARED_ZEROPAGE (src === dst, a split's small folio), a
 * zero-filled page goes to the shared zero page instead.
 * We enter with both folios locked and the anon_vma read-locked.
 */
function remove_migration_pte(dst: Folio, src: Folio, map_unused_to_zeropage: boolean): (folio: Folio, vma: VmArea, address: number) => KGen<boolean> {
  return function* remove_migration_pte(_folio: Folio, vma: VmArea, address: number): KGen<boolean> {
    for (const a of folio_addresses_in_vma(src, vma, address)) {
      const pvmw: PageVmaMappedWalk = { folio: src, vma, address: a, flags: PVMW_MIGRATION };
      if (!(yield* page_vma_mapped_walk(pvmw))) continue;
      // PMD-mapped THP migration entry
      if (pvmw.pmd_ptl) {
        BUG_ON(!src.order || dst.order !== src.order, 'remove_migration_pte', `PMD migration entry of ${src.kname} for ${dst.kname}`);
        remove_migration_pmd(pvmw, pfn_to_page(dst.pfn + (pvmw.page!.pfn - src.pfn)));
        yield* page_vma_mapped_walk_done(pvmw);
        break;
      }
      const table = pvmw.table!;
      const entry = ptep_get(table, a) as PteMigration;
      if (map_unused_to_zeropage && try_to_map_unused_to_zeropage(pvmw, dst, table, a)) {
        yield* page_vma_mapped_walk_done(pvmw);
        continue;
      }
      folio_get(dst);
      // mk_pte(new, vma->vm_page_prot), made writable only for a writable
      // entry: mprotect() took write away from the entries it met
      // (change_pte_range), fork from those it shared.
      const write = entry.mode === 'write';
      // [thp] src === dst large: a split that failed to freeze puts its own pages back.
      const pfn = dst.pfn + (entry.pfn - src.pfn);
      if (!folio_test_anon(dst)) folio_add_file_rmap_ptes(dst, vma); // folio_add_file_rmap_pte()
      else if (dst.order) folio_add_anon_rmap_ptes(dst, pfn_to_page(pfn), 1, vma, a, entry.mode !== 'read');
      else folio_add_anon_rmap_pte(dst, vma, a, entry.mode !== 'read');
      set_pte_at(table, a, mk_pte(pfn, write, write && (dst.flags & PG_dirty) !== 0, !vma_is_accessible(vma)));
      yield* page_vma_mapped_walk_done(pvmw);
    }
    return true;
  };
}

/**
 * remove_migration_ptes(): every migration entry of src becomes a PTE of
 * dst. RMP_LOCKED: the caller holds the anon_vma lock (split_huge_page);
 * RMP_USE_SHARED_ZEROPAGE: zero-filled pages go to the zero page (only for
 * src === dst).
 */
export function* remove_migration_ptes(src: Folio, dst: Folio, flags = 0): KGen {
  const map_unused_to_zeropage = (flags & RMP_USE_SHARED_ZEROPAGE) !== 0;
  BUG_ON(map_unused_to_zeropage && src !== dst, 'remove_migration_ptes', `RMP_USE_SHARED_ZEROPAGE from ${src.kname} to ${dst.kname}`);
  yield* rmap_walk(dst, { rmap_one: remove_migration_pte(dst, src, map_unused_to_zeropage), locked: (flags & RMP_LOCKED) !== 0 });
}

/**
 * folio_migrate_mapping(): the new folio takes the old one's place: its
 * anon_vma and index, and its swap cache slot if it has one.
 * We enter with both folios locked.
 */
function* folio_migrate_mapping(dst: Folio, src: Folio): KGen<boolean> {
  // Anonymous folio without a mapping: only the isolation's reference (and
  // the swap cache's) may be left; a GUP reference (FOLL_GET) or any other
  // keeps it where it is (-EAGAIN).
  const expected_count = 1 + (src.flags & PG_swapcache ? 1 : 0);
  if (src._refcount !== expected_count) return false;
  dst.mapping = src.mapping;
  dst.index = src.index;
  dst.flags |= src.flags & (PG_anon | PG_dirty | PG_swapbacked);
  if (src.flags & PG_swapcache) {
    const entry = src.swap!;
    const si = swp_swap_info(entry)!;
    yield* spin_lock(si.cache_lock);
    si.cache.set(entry.offset, dst);
    dst.swap = entry;
    dst.flags |= PG_swapcache;
    dst._refcount++;
    src.swap = undefined;
    src.flags &= ~PG_swapcache;
    src._refcount--;
    yield* spin_unlock(si.cache_lock);
  }
  return true;
}

/**
 * __folio_migrate_mapping() for a page-cache folio: under the mapping's
 * xa_lock, freeze the old folio's refcount at what migration expects (the
 * page cache's and the isolation's: a racing lookup or a pin makes it
 * -EAGAIN), give the new folio its index, mapping, the cache's reference,
 * swapbacked and the dirty bit, store it in i_pages in place of the old one,
 * and unfreeze the old folio to one reference less. migrate_file_folio()
 * then clears the old folio's mapping: whoever waited on its lock finds it gone.
 * We enter with both folios locked and the old one unmapped.
 */
function* __folio_migrate_mapping_file(mapping: AddressSpace, dst: Folio, src: Folio, expected_count: number): KGen<boolean> {
  yield* spin_lock(mapping.xa_lock);
  if (!folio_ref_freeze(src, expected_count)) {
    yield* spin_unlock(mapping.xa_lock);
    return false;
  }
  // Now we know that no one else is looking at the folio: no turning back from here.
  dst.index = src.index;
  dst.f_mapping = mapping;
  folio_get(dst); // folio_ref_add(newfolio, nr): add cache reference
  dst.flags |= src.flags & PG_swapbacked;
  // Move dirty while folio refs frozen and newfolio not yet exposed.
  if (src.flags & PG_dirty) {
    src.flags &= ~PG_dirty;
    dst.flags |= PG_dirty;
  }
  BUG_ON(mapping.i_pages[src.index] !== src, '__folio_migrate_mapping', `${src.kname} not at index ${src.index} of ${mapping.host.name}`);
  mapping.i_pages[src.index] = dst; // xas_store
  // Drop cache reference from old folio by unfreezing to one less reference.
  folio_ref_unfreeze(src, expected_count - 1);
  yield* spin_unlock(mapping.xa_lock);
  return true;
}

/**
 * migrate_folio() (the mapping's a_ops->migrate_folio for shmem, via
 * move_to_new_folio) of an unmapped page-cache folio: the refcount check
 * (folio_expected_ref_count() + 1: the page cache's and the isolation's),
 * the copy, then the mapping. True if it moved.
 * We enter with both folios locked.
 */
function* migrate_folio_file(dst: Folio, src: Folio): KGen<boolean> {
  const mapping = src.f_mapping!;
  const expected_count = 2;
  // Check whether src does not have extra refs before we do more work
  if (src._refcount !== expected_count) return false;
  yield 'folio_mc_copy';
  dst.data = [...src.data];
  return yield* __folio_migrate_mapping_file(mapping, dst, src, expected_count);
}

/**
 * migrate_folio_unmap(): migration entries wherever src is mapped, then the
 * new folio, locked (Linux allocates it first; the model once src is
 * unmapped). Undefined, with every entry put back, if some PTE could not be
 * replaced (pinned, or a temporary stack) or no frame is free. `mapped`:
 * the caller found src mapped (an anon folio is walked even if its last
 * PTE went while we took its anon_vma). `new_folio`: the THP the caller
 * allocated first for a large src (get_new_folio), ours from here (put on
 * failure).
 * We enter with src locked (and, for an anon folio, its anon_vma referenced).
 */
function* migrate_folio_unmap(src: Folio, mapped: boolean, new_folio?: Folio): KGen<Folio | undefined> {
  if (mapped) {
    yield* try_to_migrate(src);
    if (src._mapcount > 0) {
      yield* remove_migration_ptes(src, src);
      if (new_folio) folio_put(new_folio); // put_new_folio()
      return undefined;
    }
  }
  const dst = new_folio ?? folio_alloc();
  if (!dst) {
    yield* remove_migration_ptes(src, src);
    return undefined;
  }
  // __folio_set_locked(): nobody can see the new folio yet, so this cannot fail.
  yield* bit_trylock(dst.lock);
  return dst;
}

/** folio_copy(): the contents, page by page for a THP. */
function folio_copy(dst: Folio, src: Folio): void {
  if (!src.order) {
    dst.data = [...src.data];
    return;
  }
  for (let i = 0; i < 1 << src.order; i++) dst.pages![i]!.data = [...src.pages![i]!.data];
}

/**
 * migrate_folio(): one isolated folio to a new one. Returns true if it moved.
 * A THP moves to `new_folio`, a THP of its order the caller allocated first.
 * We enter holding a reference on src (the isolation), and on new_folio; we drop both.
 */
export function* migrate_folio(src: Folio, new_folio?: Folio): KGen<boolean> {
  yield* bit_lock(src.lock);
  let moved = false;
  let anon_vma: AnonVma | undefined;
  let spare = new_folio;
  out: {
    // A page-cache folio may have left its file (truncated, written out to swap) before we locked it.
    const file = !folio_test_anon(src);
    if (file ? !shmem_folio(src) : src._mapcount === 0) break out;
    if (file) {
      moved = yield* migrate_file_folio(src);
      break out;
    }
    // Keep the anon_vma alive while the folio is unmapped: remove_migration_ptes walks it.
    anon_vma = yield* folio_get_anon_vma(src);
    if (!anon_vma) break out;
    spare = undefined;
    const dst = yield* migrate_folio_unmap(src, true, new_folio);
    if (!dst) break out;
    // move_to_new_folio(): contents, mapping, flags.
    yield 'folio_migrate_copy';
    folio_copy(dst, src);
    if (!(yield* folio_migrate_mapping(dst, src))) {
      yield* remove_migration_ptes(src, src);
      yield* bit_unlock(dst.lock);
      folio_put(dst);
      break out;
    }
    src.flags &= ~PG_anon_exclusive;
    yield* remove_migration_ptes(src, dst);
    yield* bit_unlock(dst.lock);
    folio_put(dst); // the allocation's reference: dst now lives by its mappings
    moved = true;
  }
  if (spare) folio_put(spare); // put_new_folio(): src left before it was unmapped
  if (anon_vma) yield* put_anon_vma(anon_vma);
  yield* bit_unlock(src.lock);
  folio_put(src);
  return moved;
}

/**
 * migrate_folio_unmap() and migrate_folio_move() for a shmem page-cache
 * folio, mapped or not: migration entries in every VMA of i_mmap that maps
 * it (try_to_migrate over rmap_walk_file), the new folio in its i_pages slot
 * (migrate_folio_file), the entries then replaced by PTEs to the new folio,
 * or back to the old one if anything failed.
 * True if it moved. We enter with src locked and referenced (the isolation's).
 */
function* migrate_file_folio(src: Folio): KGen<boolean> {
  const dst = yield* migrate_folio_unmap(src, src._mapcount > 0);
  if (!dst) return false;
  const ok = yield* migrate_folio_file(dst, src);
  // remove_migration_ptes(src, ok ? dst : src): the rmap walk of the folio that now holds the slot.
  yield* remove_migration_ptes(src, ok ? dst : src);
  // move_to_new_folio(): "For pagecache folios, src->mapping must be cleared before src is freed."
  // Linux clears it before remove_migration_ptes(); the model once the entries are gone, still under
  // src's lock (whoever reads it takes that lock first), so that every migration entry's folio is
  // one rmap can walk from.
  if (ok) src.f_mapping = undefined;
  yield* bit_unlock(dst.lock);
  folio_put(dst); // the allocation's reference: dst now lives by the page cache's and its mappings'
  return ok;
}

/**
 * try_split_folio(): a large folio that cannot move whole (no THP to move it
 * to) is split, and its pieces migrated instead (the model goes on with the
 * head's only; the tails go back to the LRU).
 * We enter holding a reference on the folio (the isolation).
 */
function* try_split_folio(folio: Folio): KGen<number> {
  // MIGRATE_SYNC: folio_lock()
  yield* bit_lock(folio.lock);
  const rc = yield* split_folio(folio);
  yield* bit_unlock(folio.lock);
  return rc;
}

/** What kcompactd scans: anon folios in use and mapped, and shmem page-cache folios, in pfn order; `victim` picks one. */
/**
 * One migration by kcompactd: isolate the chosen folio and migrate it. A
 * THP moves whole (thp_migration_supported()) to a THP allocated first
 * (get_new_folio: compaction_alloc); if there is none (-ENOMEM),
 * migrate_pages_batch() splits it (try_split_folio) and migrates the head
 * page's folio.
 */
export function* kcompactd_migrate(victim: number): KGen<boolean> {
  yield 'isolate_migratepages';
  const folio = lru_pick(victim, (f) => (f._mapcount !== 0 && (f.flags & PG_anon) !== 0) || shmem_folio(f));
  if (!folio || !folio_try_get(folio)) return false;
  if (folio.order) {
    const dst = folio_alloc_large(folio.order);
    if (dst) return yield* migrate_folio(folio, dst);
    if (yield* try_split_folio(folio)) {
      // putback_movable_pages()
      folio_put(folio);
      return false;
    }
  }
  return yield* migrate_folio(folio);
}
