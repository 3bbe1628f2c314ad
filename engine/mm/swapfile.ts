/*
 * mm/swapfile.c (Linux 6.12) for the model: swapon, swapoff (try_to_unuse
 * walking the mmlist, then the tear-down in Linux's order: swap_map,
 * cluster_info, the swap cache's address space, swap_file), swap_map
 * counting (swap_duplicate, swap_free, swapcache_prepare, swapcache_clear,
 * put_swap_folio, free_swap_and_cache), slot allocation, and
 * get_swap_device() / put_swap_device() that make a swap user safe against a
 * concurrent swapoff (seed 004).
 *
 * Who may touch a device without get_swap_device(), as in Linux: a holder
 * of a swap count it cannot lose meanwhile (the PT lock over a swap PTE:
 * swap_duplicate, unuse_pte), or of a swap cache folio (SWAP_HAS_CACHE keeps
 * inuse_pages above zero, so swapoff cannot finish). Everyone else pins it.
 * Simplifications: one cluster per device, locked by si->lock; no swap
 * extents, discard, zswap or swap cgroup.
 */
import { bit_lock, bit_trylock, bit_unlock } from '../locking/bitlock.ts';
import { synchronize_rcu } from '../locking/rcu.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import { BUG_ON, WARN_ON } from '../kernel/current.ts';
import { cond_resched, schedule_timeout_uninterruptible } from '../sched/cond_resched.ts';
import type { KGen } from '../sched/task.ts';
import { kfree } from './kasan.ts';
import { machine } from './machine.ts';
import { mmap_read_lock, mmap_read_unlock } from './mmap_lock.ts';
import { mmput } from '../kernel/fork.ts';
import { EBUSY, EINVAL, ENOMEM, PG_dirty, PG_swapcache, mk_pte, vma_is_accessible, type Folio, type MmStruct, type VmArea } from './mm_types.ts';
import { folio_get, folio_put } from './page_alloc.ts';
import { pmd_addr_end, pmd_index, pte_index, pte_offset_map_lock, ptep_get, set_pte_at } from './pgtable.ts';
import { PageAnonExclusive, folio_add_anon_rmap_pte, folio_add_new_anon_rmap, folio_test_anon } from './rmap.ts';
import { SWAP_HAS_CACHE, SWAP_MAP_MAX, SWP_SYNCHRONOUS_IO, SWP_USED, SWP_WRITEOK, SwapInfo, swp_entry, type SwapClusterInfo, type SwpEntry } from './swap.ts';
import { delete_from_swap_cache, exit_swap_address_space, read_swap_cache_async, swap_cache_get_folio } from './swap_state.ts';
import { shmem_unuse } from './shmem.ts';

export const MAX_SWAPFILES = 4;

/** swp_swap_info(): the device of an entry (it may be off). */
export function swp_swap_info(entry: SwpEntry): SwapInfo | undefined {
  return machine().swap_info[entry.type];
}

/**
 * get_swap_device(): pin the device of `entry` against swapoff, or undefined
 * if it is being (or has been) removed: percpu_ref_tryget_live(&si->users).
 * Every path that reads swap_map without holding a swap count must do this.
 */
export function* get_swap_device(entry: SwpEntry): KGen<SwapInfo | undefined> {
  yield 'get_swap_device: percpu_ref_tryget_live';
  const si = swp_swap_info(entry);
  if (!si || si.users_dead || !(si.flags & SWP_USED)) return undefined;
  if (entry.offset >= si.max) return undefined;
  si.users++;
  return si;
}

export function put_swap_device(si: SwapInfo): void {
  BUG_ON(si.users <= 0, 'put_swap_device', `${si.kname} users underflow`);
  si.users--;
  if (si.users === 0) si.comp.wakeAll();
}

/** __swap_count(): references to the slot, without the cache bit. */
export function swap_count(si: SwapInfo, offset: number): number {
  return si.swap_map!.map[offset]! & ~SWAP_HAS_CACHE;
}

/**
 * lock_cluster(): the cluster of `offset`, read from si->cluster_info (an
 * oops once swapoff cleared it, a use-after-free if it was already read).
 * Its lock is si->lock in the model, which the caller holds.
 */
function lock_cluster(si: SwapInfo, _offset: number): SwapClusterInfo {
  const ci = si.cluster_info!;
  ci.count++;
  return ci;
}

/** swap_range_free(): the slot has no user left. We enter with si->lock held. */
function swap_range_free(si: SwapInfo, offset: number): void {
  si.swap_map!.map[offset] = 0;
  si.inuse_pages--;
}

/**
 * swap_duplicate(): one more PTE refers to the slot (fork, try_to_unmap).
 * We enter with the PT lock held; si->lock nests inside it.
 */
export function* swap_duplicate(entry: SwpEntry): KGen<number> {
  const si = swp_swap_info(entry)!;
  yield* spin_lock(si.lock);
  lock_cluster(si, entry.offset);
  const map = si.swap_map!.map;
  const v = map[entry.offset]!;
  let err = 0;
  if ((v & ~SWAP_HAS_CACHE) === 0 && !(v & SWAP_HAS_CACHE)) err = -ENOMEM; // -ENOENT: a freed slot
  else if ((v & ~SWAP_HAS_CACHE) >= SWAP_MAP_MAX) err = -ENOMEM;
  else map[entry.offset] = v + 1;
  yield* spin_unlock(si.lock);
  return err;
}

/** swap_free(): one PTE reference less; the last one (without the cache) frees the slot. */
export function* swap_free(entry: SwpEntry): KGen {
  const si = swp_swap_info(entry)!;
  yield* spin_lock(si.lock);
  lock_cluster(si, entry.offset);
  const map = si.swap_map!.map;
  const v = map[entry.offset]!;
  BUG_ON((v & ~SWAP_HAS_CACHE) === 0, 'swap_free', `free of unused swap entry ${entry.type}:${entry.offset}`);
  map[entry.offset] = v - 1;
  if (map[entry.offset] === 0) swap_range_free(si, entry.offset);
  yield* spin_unlock(si.lock);
}

/**
 * swapcache_prepare(): claim the slot for the swap cache before reading it
 * in. -EEXIST: someone else is adding it; -ENOENT: the slot was freed.
 */
export function* swapcache_prepare(entry: SwpEntry): KGen<number> {
  const si = swp_swap_info(entry)!;
  yield* spin_lock(si.lock);
  lock_cluster(si, entry.offset);
  const map = si.swap_map!.map;
  const v = map[entry.offset]!;
  let err = 0;
  if (v & SWAP_HAS_CACHE) err = -17; // -EEXIST
  else if (v === 0) err = -2; // -ENOENT
  else map[entry.offset] = v | SWAP_HAS_CACHE;
  yield* spin_unlock(si.lock);
  return err;
}

/**
 * swapcache_clear(): do_swap_page's skip-swapcache path lets go of the
 * SWAP_HAS_CACHE it took with swapcache_prepare() as a lock on the slot; the
 * slot is free if no PTE refers to it any more. We enter with the device
 * pinned (get_swap_device) and no PT lock.
 */
export function* swapcache_clear(si: SwapInfo, entry: SwpEntry): KGen {
  yield* spin_lock(si.lock);
  lock_cluster(si, entry.offset);
  const map = si.swap_map!.map;
  const v = map[entry.offset]!;
  BUG_ON(!(v & SWAP_HAS_CACHE), 'swapcache_clear', `slot ${entry.type}:${entry.offset} has no SWAP_HAS_CACHE to clear`);
  map[entry.offset] = v & ~SWAP_HAS_CACHE;
  if (map[entry.offset] === 0) swap_range_free(si, entry.offset);
  yield* spin_unlock(si.lock);
}

/** put_swap_folio(): the swap cache lets go of the slot. */
export function* put_swap_folio(entry: SwpEntry): KGen {
  const si = swp_swap_info(entry)!;
  yield* spin_lock(si.lock);
  lock_cluster(si, entry.offset);
  const map = si.swap_map!.map;
  const v = map[entry.offset]!;
  BUG_ON(!(v & SWAP_HAS_CACHE), 'put_swap_folio', `slot ${entry.type}:${entry.offset} not held by the swap cache`);
  map[entry.offset] = v & ~SWAP_HAS_CACHE;
  if (map[entry.offset] === 0) swap_range_free(si, entry.offset);
  yield* spin_unlock(si.lock);
}

/**
 * folio_alloc_swap(): a free slot on a device that takes new slots
 * (SWP_WRITEOK), claimed for the swap cache. A device being swapped off has
 * SWP_WRITEOK cleared and hands out nothing. We enter with the folio locked.
 */
export function* folio_alloc_swap(folio: Folio): KGen<SwpEntry | undefined> {
  BUG_ON(!folio.lock.isLocked(), 'folio_alloc_swap', `${folio.kname} not locked`);
  const m = machine();
  yield* spin_lock(m.swap_lock);
  let got: SwpEntry | undefined;
  for (const si of m.swap_info) {
    if (!(si.flags & SWP_WRITEOK)) continue;
    yield* spin_lock(si.lock);
    // scan_swap_map_slots(): the device may have been switched off meanwhile.
    if (si.flags & SWP_WRITEOK) {
      lock_cluster(si, 0);
      const map = si.swap_map!.map;
      const offset = map.indexOf(0);
      if (offset >= 0) {
        map[offset] = SWAP_HAS_CACHE;
        si.inuse_pages++;
        got = swp_entry(si.type, offset);
      }
    }
    yield* spin_unlock(si.lock);
    if (got) break;
  }
  yield* spin_unlock(m.swap_lock);
  return got;
}

/**
 * folio_free_swap(): drop the swap cache's copy of a folio nobody's PTE still
 * refers to by swap entry. We enter with the folio locked.
 */
export function* folio_free_swap(folio: Folio): KGen<boolean> {
  BUG_ON(!folio.lock.isLocked(), 'folio_free_swap', `${folio.kname} not locked`);
  if (!(folio.flags & PG_swapcache)) return false;
  const entry = folio.swap!;
  const si = swp_swap_info(entry)!;
  yield 'folio_swapped: read swap_map';
  if (swap_count(si, entry.offset) > 0) return false;
  yield* delete_from_swap_cache(folio);
  folio.flags |= PG_dirty;
  return true;
}

/**
 * free_swap_and_cache(): zap dropped a swap PTE. If only the swap cache is
 * left on the slot, try to reclaim that too (without sleeping: we may hold
 * the PT lock). We enter with the PT lock held.
 */
export function* free_swap_and_cache(entry: SwpEntry): KGen {
  const si = yield* get_swap_device(entry);
  if (WARN_ON(!si, 'free_swap_and_cache', `swap entry ${entry.type}:${entry.offset} of a device that is off`)) return;
  yield* swap_free(entry);
  yield 'free_swap_and_cache: read swap_map';
  if (si!.swap_map!.map[entry.offset] === SWAP_HAS_CACHE) {
    const folio = swap_cache_get_folio(si!, entry.offset);
    if (folio) {
      if (yield* bit_trylock(folio.lock)) {
        // __try_to_reclaim_swap(TTRS_UNMAPPED): only if nobody maps it.
        if (folio._mapcount === 0 && folio.flags & PG_swapcache && folio.swap?.offset === entry.offset) yield* folio_free_swap(folio);
        yield* bit_unlock(folio.lock);
      }
      folio_put(folio);
    }
  }
  put_swap_device(si!);
}

/* --------------------------------------------------------------- swapon */

/**
 * sys_swapon(): a new device of `pages` slots; returns its type or -errno.
 * `sync`: the device is synchronous (zram, pmem), so the kernel sets
 * SWP_SYNCHRONOUS_IO (in the kernel from bdev_synchronous(), not from swapon's flags).
 */
export function* sys_swapon(pages: number, sync = false): KGen<number> {
  if (pages < 1 || pages > 64) return -EINVAL;
  const m = machine();
  yield* spin_lock(m.swap_lock);
  let ret: number;
  if (m.swap_info.length >= MAX_SWAPFILES) ret = -EBUSY;
  else {
    const si = new SwapInfo(m.swap_info.length, pages);
    si.flags |= SWP_WRITEOK;
    if (sync) si.flags |= SWP_SYNCHRONOUS_IO;
    m.swap_info.push(si);
    ret = si.type;
  }
  yield* spin_unlock(m.swap_lock);
  return ret;
}

/* -------------------------------------------------------------- swapoff */

/**
 * unuse_pte(): replace the swap PTE by the folio, if the PTE still is that
 * entry. We enter with the folio locked; the PT lock is ours in here.
 */
function* unuse_pte(vma: VmArea, addr: number, entry: SwpEntry, folio: Folio): KGen<number> {
  const table = yield* pte_offset_map_lock(vma.vm_mm, addr);
  if (!table) return 0;
  const old = ptep_get(table, addr);
  if (old.kind !== 'swap' || old.type !== entry.type || old.offset !== entry.offset) {
    yield* spin_unlock(table.ptl);
    return 0;
  }
  BUG_ON(folio_test_anon(folio) && PageAnonExclusive(folio), 'unuse_pte', `${folio.kname} in the swap cache is exclusive`);
  folio_get(folio);
  if (!folio_test_anon(folio)) folio_add_new_anon_rmap(folio, vma, addr, old.exclusive);
  else folio_add_anon_rmap_pte(folio, vma, addr, old.exclusive);
  // mk_pte(page, vma->vm_page_prot): R/O, so the next write goes through
  // do_wp_page; protnone in a VMA that allows no access (PROT_NONE).
  set_pte_at(table, addr, mk_pte(folio.pfn, false, false, !vma_is_accessible(vma)));
  yield* swap_free(entry);
  yield* spin_unlock(table.ptl);
  return 0;
}

/**
 * unuse_pte_range(): bring in every page of this table that is swapped to
 * `type`. The PTE is read without the lock; unuse_pte() rechecks it.
 */
function* unuse_pte_range(vma: VmArea, start: number, end: number, type: number): KGen<number> {
  const mm = vma.vm_mm;
  const si = machine().swap_info[type]!;
  for (let addr = start; addr < end; addr++) {
    yield 'unuse_pte_range: ptep_get_lockless';
    const table = mm.pgd[pmd_index(addr)];
    const pte = table?.ptes[pte_index(addr)];
    if (!pte || pte.kind !== 'swap' || pte.type !== type) continue;
    const entry = swp_entry(pte.type, pte.offset);
    let folio = swap_cache_get_folio(si, entry.offset);
    if (!folio) folio = yield* read_swap_cache_async(entry);
    if (!folio) {
      yield 'unuse_pte_range: read swap_map';
      const count = si.swap_map!.map[entry.offset]!;
      if (count === 0) continue;
      return -ENOMEM;
    }
    yield* bit_lock(folio.lock);
    const ret = yield* unuse_pte(vma, addr, entry, folio);
    if (ret < 0) {
      yield* bit_unlock(folio.lock);
      folio_put(folio);
      return ret;
    }
    yield* folio_free_swap(folio);
    yield* bit_unlock(folio.lock);
    folio_put(folio);
  }
  return 0;
}

function* unuse_vma(vma: VmArea, type: number): KGen<number> {
  for (let addr = vma.vm_start; addr < vma.vm_end; ) {
    const next = pmd_addr_end(addr, vma.vm_end);
    yield 'unuse_pmd_range: read pmd';
    if (vma.vm_mm.pgd[pmd_index(addr)]) {
      const ret = yield* unuse_pte_range(vma, addr, next, type);
      if (ret) return ret;
    }
    addr = next;
  }
  return 0;
}

/** unuse_mm(): every anon VMA of the mm, under its mmap_lock for read. */
function* unuse_mm(mm: MmStruct, type: number): KGen<number> {
  yield* mmap_read_lock(mm);
  let ret = 0;
  for (const vma of [...mm.mmap]) {
    if (vma.anon_vma) {
      ret = yield* unuse_vma(vma, type);
      if (ret) break;
    }
    yield* cond_resched();
  }
  yield* mmap_read_unlock(mm);
  return ret;
}

/**
 * try_to_unuse(): bring every page on the device back in. Walk init_mm's
 * mmlist, taking a reference on each live mm before dropping mmlist_lock;
 * then drop what is left in the swap cache. Children are linked right after
 * their parent, and new users at the head, so one pass can miss an mm that
 * fork or try_to_unmap added behind the walk: retry while slots remain in use.
 * We enter with SWP_WRITEOK cleared: no new slot is handed out.
 */
function* try_to_unuse(type: number): KGen<number> {
  const m = machine();
  const si = m.swap_info[type]!;
  for (;;) {
    yield 'try_to_unuse: read inuse_pages';
    if (!si.inuse_pages) return 0;
    // retry: [shmem] the tmpfs files' swap entries first (engine/mm/shmem.ts).
    const retval = yield* shmem_unuse(type);
    if (retval) return retval;
    // p walks the list; prev_mm is the mm we hold a reference on.
    let p: MmStruct | undefined;
    let prev_mm: MmStruct | undefined;
    yield* spin_lock(m.mmlist_lock);
    for (;;) {
      if (!si.inuse_pages) break;
      // p = p->next: p is still on the list (we hold mmlist_lock, or a reference on it).
      const mm: MmStruct | undefined = m.mmlist[(p ? m.mmlist.indexOf(p) : -1) + 1];
      if (!mm) break;
      p = mm;
      // mmget_not_zero(): an mm on its way out is skipped.
      if (mm.mm_users === 0) continue;
      mm.mm_users++;
      yield* spin_unlock(m.mmlist_lock);
      if (prev_mm) yield* mmput(prev_mm);
      prev_mm = mm;
      const retval = yield* unuse_mm(mm, type);
      if (retval) {
        yield* mmput(prev_mm);
        return retval;
      }
      yield* cond_resched();
      yield* spin_lock(m.mmlist_lock);
    }
    yield* spin_unlock(m.mmlist_lock);
    if (prev_mm) yield* mmput(prev_mm);

    // Whatever is left in the swap cache no PTE refers to: drop it.
    for (const [offset, folio] of [...si.cache]) {
      yield 'try_to_unuse: filemap_get_folio';
      if (si.cache.get(offset) !== folio) continue;
      folio_get(folio);
      yield* bit_lock(folio.lock);
      if (folio.flags & PG_swapcache && folio.swap?.type === type) yield* folio_free_swap(folio);
      yield* bit_unlock(folio.lock);
      folio_put(folio);
    }
    yield 'try_to_unuse: read inuse_pages';
    if (!si.inuse_pages) return 0;
    // Let the faults and forks we are racing with make progress before we retry.
    yield* schedule_timeout_uninterruptible();
  }
}

/**
 * drain_mmlist(): once no device has pages in use, nobody needs the mmlist.
 * We enter with swap_lock held.
 */
function* drain_mmlist(): KGen {
  const m = machine();
  for (const si of m.swap_info) if (si.flags & SWP_USED && si.inuse_pages) return;
  yield* spin_lock(m.mmlist_lock);
  for (const mm of m.mmlist) mm.onMmlist = false;
  m.mmlist.length = 0;
  yield* spin_unlock(m.mmlist_lock);
}

/**
 * sys_swapoff(): stop handing out slots (SWP_WRITEOK), bring everything in
 * (try_to_unuse), then wait for every get_swap_device() user to leave before
 * the swap_map goes. Returns 0 or -errno (the device is then put back).
 */
export function* sys_swapoff(type: number): KGen<number> {
  const m = machine();
  const si = m.swap_info[type];
  if (!si) return -EINVAL;
  yield* spin_lock(m.swap_lock);
  yield* spin_lock(si.lock);
  let err = 0;
  if (!(si.flags & SWP_WRITEOK)) err = -EINVAL;
  else si.flags &= ~SWP_WRITEOK;
  yield* spin_unlock(si.lock);
  yield* spin_unlock(m.swap_lock);
  if (err) return err;

  err = yield* try_to_unuse(type);
  if (err) {
    // reinsert_swap_info(): the device takes slots again.
    yield* spin_lock(si.lock);
    si.flags |= SWP_WRITEOK;
    yield* spin_unlock(si.lock);
    return err;
  }
  // percpu_ref_kill(&si->users); synchronize_rcu(); wait_for_completion(&si->comp):
  // no get_swap_device() may succeed from here on, and those that did must leave.
  si.users_dead = true;
  yield* synchronize_rcu();
  while (si.users > 0) yield si.comp;

  yield* spin_lock(m.swap_lock);
  yield* spin_lock(si.lock);
  yield* drain_mmlist();
  const swap_file = si.swap_file!;
  si.swap_file = undefined;
  const swap_map = si.swap_map!;
  si.swap_map = undefined;
  const cluster_info = si.cluster_info!;
  si.cluster_info = undefined;
  yield* spin_unlock(si.lock);
  yield* spin_unlock(m.swap_lock);
  yield 'swapoff: free_percpu(p->percpu_cluster)';
  kfree(swap_map); // vfree(swap_map)
  kfree(cluster_info); // kvfree(cluster_info)
  yield* exit_swap_address_space(si);
  yield 'swapoff: inode->i_flags &= ~S_SWAPFILE';
  kfree(swap_file); // filp_close(swap_file, NULL)
  // Clear the SWP_USED flag after all resources are freed so that swapon
  // can reuse this swap_info in alloc_swap_info() safely.
  yield* spin_lock(m.swap_lock);
  si.flags = 0;
  yield* spin_unlock(m.swap_lock);
  return 0;
}
