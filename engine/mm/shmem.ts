/*
 * mm/shmem.c for the model (Linux 6.16): tmpfs files, as memfd_create()
 * makes them (engine/fs/memfd.ts), and shared anonymous memory
 * (shmem_zero_setup). The page cache is the mapping's i_pages:
 * by file index a folio, or the swap entry (an xarray value) of a page out
 * on swap. Faults find or allocate the folio (shmem_get_folio_gfp), reclaim
 * writes it out to swap and leaves the swap entry in its place
 * (shmem_writeout), a fault or swapoff reads it back (shmem_swapin_folio,
 * under get_swap_device), swapoff finds the inodes with swap through the
 * shmem swaplist (shmem_unuse, called from try_to_unuse), and truncate and
 * hole punch remove folios and swap entries (shmem_undo_range).
 *
 * Locks. The folio lock serialises a page-cache folio's life: it is added
 * locked (shmem_add_to_page_cache), faulted in locked, written out locked,
 * and removed locked (truncate_inode_folio); everyone who found it unlocked
 * rechecks folio->mapping once they hold the lock. Changes of i_pages take
 * the mapping's xa_lock, with the entry they expect rechecked under it.
 * inode->i_rwsem is held by truncate and hole punch; shmem_swaplist_mutex
 * guards the swaplist (6.16: 6.17 makes it a spinlock, taken by writeout
 * only once the folio has a slot).
 *
 * Shared anonymous mappings (mmap MAP_SHARED | MAP_ANONYMOUS) are shmem
 * too: shmem_zero_setup() gives each a file of its own, which its VMA and
 * the VMAs fork copies from it map; nothing else can reach it.
 *
 * Dirty tracking, as 6.16 has it for shmem: shmem_aops.dirty_folio is
 * noop_dirty_folio (PG_dirty set, nothing accounted) and shmem has no
 * writeback (mapping_can_writeback() is false: its backing_dev_info cannot
 * write back). A folio is added to the page cache clean; a write fault
 * dirties it (fault_dirty_shared_page), a store through a writable clean PTE
 * (mapped by a read fault: no write notify without page_mkwrite or
 * writeback) dirties the PTE alone, and the bit moves to the folio when the
 * PTE goes (zap, try_to_unmap_one, try_to_migrate_one); a swapped-in folio
 * is dirty. Reclaim writes a dirty folio out (pageout:
 * folio_clear_dirty_for_io, which for shmem only clears the flag, then
 * shmem_writeout) and drops a clean one. There is no writeback thread and
 * no folio_mkclean/page_mkclean_one for shmem, and msync() on a shmem
 * mapping does nothing (MS_ASYNC never does; MS_SYNC calls shmem's fsync,
 * noop_fsync): none of them is modelled, because Linux has none for shmem.
 *
 * Left out, each whole: large folios and THP, fallocate's allocation (only
 * FALLOC_FL_PUNCH_HOLE), shmem_falloc's wait of faults into a hole being
 * punched (a liveness aid against trinity: 8e205f779d14), quotas and block
 * accounting (shmem_recalc_inode keeps `swapped` only), seals, uffd, memcg,
 * SWP_SYNCHRONOUS_IO devices (shmem_swap_alloc_folio), swapin readahead of
 * the neighbours (shmem_swapin_cluster reads the one entry), swapin errors
 * (poisoned entries), eviction (files live for the whole run: memfds as if
 * passed around and never closed, and a shared anonymous mapping's file
 * keeps its pages after its last munmap, as if a process still held it:
 * no shmem_evict_inode), and mremap of a shmem VMA (-EINVAL in the model).
 * Migration of shmem folios is migrate.ts's (the generic migrate_folio).
 */
import { bit_lock, bit_unlock } from '../locking/bitlock.ts';
import { Mutex, mutex_lock, mutex_unlock } from '../locking/mutex.ts';
import { spin_lock, spin_unlock } from '../locking/spinlock.ts';
import { BUG_ON } from '../kernel/current.ts';
import { cond_resched } from '../sched/cond_resched.ts';
import type { KGen } from '../sched/task.ts';
import { File, Inode, swp_to_radix_entry, xa_is_value, type AddressSpace, type XaValue } from '../fs/fs.ts';
import { machine, type Machine } from './machine.ts';
import { unmap_mapping_pages } from './memory.ts';
import { EINVAL, ENOMEM, PG_dirty, PG_swapcache, VM_FAULT_LOCKED, VM_FAULT_OOM, VM_FAULT_SIGBUS, type Folio, type VmArea, type VmFault } from './mm_types.ts';
import { folio_alloc, folio_get, folio_put } from './page_alloc.ts';
import { swp_entry, type SwpEntry } from './swap.ts';
import { add_to_swap_cache, delete_from_swap_cache, read_swap_cache_async, swap_cache_get_folio } from './swap_state.ts';
import { folio_alloc_swap, free_swap_and_cache, get_swap_device, put_swap_device, swap_duplicate, swap_free } from './swapfile.ts';
import { swap_writepage } from './page_io.ts';
import { truncate_inode_folio } from './truncate.ts';
import { filemap_get_entry, filemap_remove_folio, find_get_entries, find_lock_entries } from './filemap.ts';

export const EEXIST = 17;
export const ENOENT = 2;

/** Inode numbers of shared anonymous mappings' files start here (memfds are numbered by their name). */
const SHMEM_ANON_INO = 1 << 16;

/** enum sgp_type: what shmem_get_folio_gfp() may do at a hole. */
export const SGP_READ = 0;
export const SGP_NOALLOC = 1;
export const SGP_CACHE = 2;
export const SGP_WRITE = 3;

/* ------------------------------------------------------------- objects */

/** struct shmem_inode_info and its vfs_inode. i_size is in pages. */
export class ShmemInode extends Inode {
  /** info->swapped: pages of the file out on swap (swap entries in i_pages). */
  swapped = 0;
  /** On shmem_swaplist (list_empty(&info->swaplist) is false). */
  onSwaplist = false;

  constructor(ino: number, name: string) {
    super(ino, name, 'shmem: inode->i_rwsem', 'mapping->i_mmap_rwsem');
  }
}

/** The tmpfs mount (shm_mnt) of one machine: its files by the program's name, and the swaplist. */
class ShmemSb {
  readonly files: (File | undefined)[] = [];
  /** The files of shared anonymous mappings (shmem_zero_setup), in the order they were made: no name. */
  readonly anon: File[] = [];
  /** shmem_swaplist: inodes that may have swap entries, newest first (list_add). */
  readonly swaplist: ShmemInode[] = [];
  readonly shmem_swaplist_mutex = new Mutex('shmem_swaplist_mutex');
}

const sbs = new WeakMap<Machine, ShmemSb>();

export function shmem_sb(m: Machine = machine()): ShmemSb {
  let sb = sbs.get(m);
  if (!sb) sbs.set(m, (sb = new ShmemSb()));
  return sb;
}

/** Every shmem file of a machine, for property checks (as a debugger would see them). */
export function shmem_files(m: Machine): readonly File[] {
  const sb = sbs.get(m);
  if (!sb) return [];
  return [...sb.files.filter((f): f is File => f !== undefined), ...sb.anon];
}

export function SHMEM_I(inode: Inode): ShmemInode {
  return inode as ShmemInode;
}

export function shmem_mapping(mapping: AddressSpace | undefined): boolean {
  return mapping !== undefined && mapping.host instanceof ShmemInode;
}

/* ------------------------------------------------------ the page cache */

/**
 * shmem_add_to_page_cache(): put a new (or swapped-in) folio at `index`,
 * where the entry must still be `expected` (undefined for a hole, or the
 * swap entry the folio was read from). The page cache's reference is taken
 * before the folio can be found. 0 or -EEXIST.
 * We enter with the folio locked.
 */
export function* shmem_add_to_page_cache(folio: Folio, mapping: AddressSpace, index: number, expected: XaValue | undefined): KGen<number> {
  BUG_ON(!folio.lock.isLocked(), 'shmem_add_to_page_cache', `${folio.kname} not locked`);
  folio_get(folio); // folio_ref_add(folio, nr)
  folio.f_mapping = mapping;
  folio.index = index;
  yield* spin_lock(mapping.xa_lock);
  let error = 0;
  if (mapping.i_pages[index] !== expected) error = -EEXIST; // xas_find_conflict()
  else {
    mapping.i_pages[index] = folio; // xas_store
  }
  yield* spin_unlock(mapping.xa_lock);
  if (error) {
    folio.f_mapping = undefined;
    folio_put(folio);
  }
  return error;
}

/**
 * shmem_delete_from_page_cache(): shmem_writeout() replaces the folio by its
 * swap entry and drops the page cache's reference. We enter with the folio locked.
 */
function* shmem_delete_from_page_cache(folio: Folio, radswap: XaValue): KGen {
  const mapping = folio.f_mapping!;
  yield* spin_lock(mapping.xa_lock);
  // shmem_replace_entry()
  const error = mapping.i_pages[folio.index] !== folio;
  if (!error) mapping.i_pages[folio.index] = radswap;
  folio.f_mapping = undefined;
  yield* spin_unlock(mapping.xa_lock);
  folio_put(folio); // folio_put_refs(folio, nr)
  BUG_ON(error, 'shmem_delete_from_page_cache', `${folio.kname} was not at index ${folio.index} of ${mapping.host.name}`);
}

/** shmem_confirm_swap(): is the swap entry still at `index`? (An unlocked look, rechecked by whoever changes it.) */
function shmem_confirm_swap(mapping: AddressSpace, index: number, swap: XaValue): boolean {
  return mapping.i_pages[index] === swap;
}

/** shmem_recalc_inode(): the model keeps info->swapped alone. */
function shmem_recalc_inode(inode: ShmemInode, swapped: number): void {
  inode.swapped += swapped;
}

/* ---------------------------------------------------------------- fault */

/**
 * shmem_alloc_and_add_folio(): a new folio for a hole at `index`, locked,
 * referenced and in the page cache. A number is -ENOMEM, or -EEXIST if a
 * racing fault filled the hole first.
 */
function* shmem_alloc_and_add_folio(inode: ShmemInode, index: number): KGen<Folio | number> {
  const folio = folio_alloc(); // shmem_alloc_folio()
  if (!folio) return -ENOMEM;
  // __folio_set_locked(), __folio_set_swapbacked(): nobody sees the folio yet.
  yield* bit_lock(folio.lock);
  const error = yield* shmem_add_to_page_cache(folio, inode.i_mapping, index, undefined);
  if (error) {
    yield* bit_unlock(folio.lock);
    folio_put(folio);
    return error;
  }
  return folio;
}

/**
 * shmem_get_folio_gfp(): find the folio at `index`, swap it in, or allocate
 * it, and return it locked with a reference; undefined only for SGP_READ
 * on a hole. A number is -errno: -EINVAL beyond i_size (SIGBUS).
 */
export function* shmem_get_folio_gfp(inode: ShmemInode, index: number, sgp: number): KGen<Folio | number | undefined> {
  const mapping = inode.i_mapping;
  for (;;) {
    // repeat:
    yield 'shmem_get_folio_gfp: i_size_read';
    if (sgp <= SGP_CACHE && index >= inode.i_size) return -EINVAL;
    const entry = yield* filemap_get_entry(mapping, index);
    if (xa_is_value(entry)) {
      const r = yield* shmem_swapin_folio(inode, index, entry, sgp);
      if (r === -EEXIST) continue;
      return r;
    }
    let folio = entry;
    if (folio) {
      yield* bit_lock(folio.lock);
      // Has the folio been truncated or swapped out?
      if (folio.f_mapping !== mapping) {
        yield* bit_unlock(folio.lock);
        folio_put(folio);
        continue;
      }
      return folio; // folio_test_uptodate: every folio here is (no fallocate)
    }
    // SGP_READ: succeed on hole, with NULL folio, letting caller zero.
    // SGP_NOALLOC: fail on hole, with NULL folio, letting caller fail.
    if (sgp === SGP_READ) return undefined;
    if (sgp === SGP_NOALLOC) return -ENOENT;
    // Fast cache lookup and swap lookup did not find it: allocate.
    const r = yield* shmem_alloc_and_add_folio(inode, index);
    if (r === -EEXIST) continue;
    if (typeof r === 'number') return r;
    folio = r;
    // clear: a fresh folio is zeroed (clear_highpage, folio_mark_uptodate).
    folio.data.fill(0);
    // Perhaps the file has been truncated since we checked
    yield 'shmem_get_folio_gfp: i_size_read';
    if (sgp <= SGP_CACHE && index >= inode.i_size) {
      // unlock: the folio we added goes again.
      yield* filemap_remove_folio(folio);
      yield* bit_unlock(folio.lock);
      folio_put(folio);
      return -EINVAL;
    }
    return folio;
  }
}

/**
 * shmem_fault(): vm_ops->fault of a shmem VMA: the folio at vmf->pgoff,
 * locked (VM_FAULT_LOCKED) and referenced, in vmf.folio.
 * We enter with mmap_lock held for read.
 */
export function* shmem_fault(vmf: VmFault): KGen<number> {
  const inode = SHMEM_I(vmf.vma.vm_file!.f_inode);
  const r = yield* shmem_get_folio_gfp(inode, vmf.pgoff!, SGP_CACHE);
  // vmf_error()
  if (typeof r === 'number') return r === -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
  vmf.folio = r!;
  return VM_FAULT_LOCKED;
}

/* ----------------------------------------------------------------- swap */

/**
 * shmem_swapin_folio(): the page at `index` is out on swap (`swap`, an
 * entry read from i_pages without a lock): pin the device against swapoff,
 * find the folio in the swap cache or read it in, lock it, check it is
 * still the swap cache's folio for that entry, and put it in the page cache
 * in place of the entry (which must still be there); then it leaves the
 * swap cache and the entry's count is dropped. The folio, locked and
 * referenced, or -EEXIST (the entry changed under us: look again), or -errno.
 */
export function* shmem_swapin_folio(inode: ShmemInode, index: number, swap: XaValue, _sgp: number): KGen<Folio | number> {
  const mapping = inode.i_mapping;
  const entry: SwpEntry = swp_entry(swap.type, swap.offset);
  // Prevent swapoff from happening to us.
  const si = yield* get_swap_device(entry);
  if (!si) return shmem_confirm_swap(mapping, index, swap) ? -EINVAL : -EEXIST;
  if (!shmem_confirm_swap(mapping, index, swap)) {
    put_swap_device(si);
    return -EEXIST;
  }
  // Look it up and read it in..
  yield 'shmem_swapin_folio: swap_cache_get_folio';
  let folio = swap_cache_get_folio(si, entry.offset);
  let error = 0;
  let locked = false;
  failed: {
    if (!folio) {
      // shmem_swapin_cluster(): the one entry, no readahead.
      folio = yield* read_swap_cache_async(entry);
      if (!folio) {
        error = -ENOMEM;
        break failed;
      }
    }
    // We have to do this with folio locked to prevent races
    yield* bit_lock(folio.lock);
    locked = true;
    if (!(folio.flags & PG_swapcache) || folio.swap?.type !== entry.type || folio.swap.offset !== entry.offset) {
      error = -EEXIST;
      break failed;
    }
    error = yield* shmem_add_to_page_cache(folio, mapping, index, swap);
    if (error) break failed;
    shmem_recalc_inode(inode, -1);
    yield* delete_from_swap_cache(folio);
    folio.flags |= PG_dirty; // folio_mark_dirty
    yield* swap_free(entry);
    put_swap_device(si);
    return folio;
  }
  // failed:
  if (!shmem_confirm_swap(mapping, index, swap)) error = -EEXIST;
  // unlock:
  if (folio) {
    if (locked) yield* bit_unlock(folio.lock);
    folio_put(folio);
  }
  put_swap_device(si);
  return error;
}

/**
 * shmem_writeout(): reclaim's writepage for a shmem folio: put the inode on
 * the swaplist, give the folio a swap slot, count the page as swapped (under
 * shmem_swaplist_mutex all along: shmem_unuse() prunes an inode that is not
 * swapped from the list under it), hold a swap count for the mapping's entry
 * (swap_shmem_alloc), replace the folio by its entry in the page cache, and
 * write it to swap. True if written (the folio is then in the swap cache
 * alone, locked); false if it stays in the page cache (redirtied).
 * We enter with the folio locked and unmapped.
 */
export function* shmem_writeout(folio: Folio): KGen<boolean> {
  const mapping = folio.f_mapping!;
  const inode = SHMEM_I(mapping.host);
  const sb = shmem_sb();
  // Add inode to shmem_unuse()'s list of swapped-out inodes, if it's not
  // already there. Do it now before the folio is moved to swap cache, when
  // its pagelock no longer protects the inode from eviction. But don't
  // unlock the mutex until we've incremented swapped, because
  // shmem_unuse_inode() will prune a !swapped inode from the swaplist under
  // this mutex.
  yield* mutex_lock(sb.shmem_swaplist_mutex);
  if (!inode.onSwaplist) {
    sb.swaplist.unshift(inode); // list_add(&info->swaplist, &shmem_swaplist)
    inode.onSwaplist = true;
  }
  const entry = yield* folio_alloc_swap(folio);
  if (entry) {
    yield* add_to_swap_cache(folio, entry);
    shmem_recalc_inode(inode, 1);
    yield* swap_duplicate(entry); // swap_shmem_alloc()
    yield* shmem_delete_from_page_cache(folio, swp_to_radix_entry(entry.type, entry.offset));
    yield* mutex_unlock(sb.shmem_swaplist_mutex);
    BUG_ON(folio._mapcount > 0, 'shmem_writeout', `${folio.kname} still mapped`);
    yield* swap_writepage(folio); // swap_writeout()
    return true;
  }
  if (!inode.swapped) {
    sb.swaplist.splice(sb.swaplist.indexOf(inode), 1); // list_del_init
    inode.onSwaplist = false;
  }
  yield* mutex_unlock(sb.shmem_swaplist_mutex);
  // redirty:
  folio.flags |= PG_dirty;
  return false;
}

/**
 * shmem_find_swap_entries(): the swap entries of device `type` in the
 * file from `start` on, and their indices (an RCU walk of i_pages).
 */
function* shmem_find_swap_entries(mapping: AddressSpace, start: number, type: number): KGen<{ entries: XaValue[]; indices: number[] }> {
  yield 'shmem_find_swap_entries: xas_for_each';
  const entries: XaValue[] = [];
  const indices: number[] = [];
  for (let i = start; i < mapping.i_pages.length; i++) {
    const e = mapping.i_pages[i];
    if (!xa_is_value(e) || e.type !== type) continue;
    entries.push(e);
    indices.push(i);
  }
  return { entries, indices };
}

/**
 * shmem_unuse_inode(): swap in every entry of device `type` in the file.
 * 0 or -ENOMEM.
 */
function* shmem_unuse_inode(inode: ShmemInode, type: number): KGen<number> {
  const mapping = inode.i_mapping;
  let start = 0;
  for (;;) {
    const { entries, indices } = yield* shmem_find_swap_entries(mapping, start, type);
    if (entries.length === 0) return 0;
    // shmem_unuse_swap_entries()
    for (let i = 0; i < entries.length; i++) {
      const r = yield* shmem_swapin_folio(inode, indices[i]!, entries[i]!, SGP_CACHE);
      if (typeof r !== 'number') {
        yield* bit_unlock(r.lock);
        folio_put(r);
      } else if (r === -ENOMEM) return r;
    }
    start = indices[indices.length - 1]!;
    yield* cond_resched();
  }
}

/**
 * shmem_unuse(): swapoff's walk of the inodes with swap, before the mmlist
 * walk (try_to_unuse's retry: label). The mutex is dropped while an inode
 * is searched; an inode that lost its last swap entry leaves the list.
 * 0 or -ENOMEM.
 */
export function* shmem_unuse(type: number): KGen<number> {
  const sb = sbs.get(machine());
  if (!sb || sb.swaplist.length === 0) return 0;
  yield* mutex_lock(sb.shmem_swaplist_mutex);
  let error = 0;
  // list_for_each_entry_safe(info, next, &shmem_swaplist, swaplist)
  let i = 0;
  while (i < sb.swaplist.length) {
    const info = sb.swaplist[i]!;
    if (!info.swapped) {
      sb.swaplist.splice(i, 1); // list_del_init
      info.onSwaplist = false;
      continue;
    }
    // atomic_inc(&info->stop_eviction): files are never evicted here.
    yield* mutex_unlock(sb.shmem_swaplist_mutex);
    error = yield* shmem_unuse_inode(info, type);
    yield* cond_resched();
    yield* mutex_lock(sb.shmem_swaplist_mutex);
    if (error) break;
    // list_empty(&info->swaplist): start over
    if (!info.onSwaplist) {
      i = 0;
      continue;
    }
    i = sb.swaplist.indexOf(info) + 1; // next = list_next_entry(info, swaplist)
    if (!info.swapped) {
      sb.swaplist.splice(i - 1, 1);
      info.onSwaplist = false;
      i--;
    }
  }
  yield* mutex_unlock(sb.shmem_swaplist_mutex);
  return error;
}

/* ------------------------------------------ shared anonymous mappings */

/**
 * shmem_zero_setup(): a MAP_SHARED | MAP_ANONYMOUS mapping is backed by a
 * shmem file of its own, "dev/zero" (shmem_kernel_file_setup, i_size the
 * mapping's length), set as its vm_file with shmem's vm_ops
 * (shmem_anon_vm_ops: the model's faults on a VMA with a file are shmem's).
 * Fork's children share the file with the VMA; nothing else can reach it.
 * We enter with mmap_lock held for write (__mmap_new_vma).
 */
export function* shmem_zero_setup(vma: VmArea): KGen<number> {
  yield 'shmem_zero_setup: shmem_kernel_file_setup';
  const sb = shmem_sb();
  const inode = new ShmemInode(SHMEM_ANON_INO + sb.anon.length, `dev/zero#${sb.anon.length}`);
  inode.i_size = vma.vm_end - vma.vm_start;
  const file = new File(inode);
  sb.anon.push(file);
  vma.vm_file = file; // if (vma->vm_file) fput(vma->vm_file): an anonymous mmap has none
  return 0;
}

/* -------------------------------------------------- truncate, hole punch */

/**
 * shmem_free_swap(): drop the swap entry at `index` if it is still
 * `radswap`: 1, or 0 if it was replaced (by a swapped-in folio).
 */
function* shmem_free_swap(mapping: AddressSpace, index: number, radswap: XaValue): KGen<number> {
  yield* spin_lock(mapping.xa_lock);
  const found = mapping.i_pages[index] === radswap;
  if (found) mapping.i_pages[index] = undefined; // xas_store(&xas, NULL)
  yield* spin_unlock(mapping.xa_lock);
  if (!found) return 0;
  yield* free_swap_and_cache(swp_entry(radswap.type, radswap.offset));
  return 1;
}

/**
 * shmem_undo_range(): remove pages [start, end) (end Infinity: to the end)
 * from the file: first what can be had without waiting (folios trylocked
 * by find_lock_entries), then everything, waiting on each folio lock; a
 * truncate goes round again until the range is empty, a hole punch stops
 * once it found nothing more.
 * We enter with inode_lock held.
 */
export function* shmem_undo_range(inode: ShmemInode, start: number, end: number): KGen {
  const mapping = inode.i_mapping;
  let nr_swaps_freed = 0;
  let index = start;
  for (;;) {
    if (index >= end) break;
    const batch = yield* find_lock_entries(mapping, index, end - 1);
    if (batch.entries.length === 0) break;
    index = batch.next;
    for (let i = 0; i < batch.entries.length; i++) {
      const folio = batch.entries[i]!;
      if (xa_is_value(folio)) {
        nr_swaps_freed += yield* shmem_free_swap(mapping, batch.indices[i]!, folio);
        continue;
      }
      yield* truncate_inode_folio(mapping, folio);
      yield* bit_unlock(folio.lock);
    }
    for (const f of batch.entries) if (!xa_is_value(f)) folio_put(f); // folio_batch_release
    yield* cond_resched();
  }

  // whole_folios:
  index = start;
  while (index < end) {
    yield* cond_resched();
    const batch = yield* find_get_entries(mapping, index, end - 1);
    if (batch.entries.length === 0) {
      // If all gone or hole-punch or unfalloc, we're done
      if (index === start || end !== Infinity) break;
      // But if truncating, restart to make sure all gone
      index = start;
      continue;
    }
    index = batch.next;
    let i = 0;
    for (; i < batch.entries.length; i++) {
      const folio = batch.entries[i]!;
      if (xa_is_value(folio)) {
        const swaps_freed = yield* shmem_free_swap(mapping, batch.indices[i]!, folio);
        if (!swaps_freed) {
          // Swap was replaced by page: retry
          index = batch.indices[i]!;
          break;
        }
        nr_swaps_freed += swaps_freed;
        continue;
      }
      yield* bit_lock(folio.lock);
      if (folio.f_mapping !== mapping) {
        // Page was replaced by swap: retry
        yield* bit_unlock(folio.lock);
        index = batch.indices[i]!;
        break;
      }
      yield* truncate_inode_folio(mapping, folio);
      yield* bit_unlock(folio.lock);
    }
    for (const f of batch.entries) if (!xa_is_value(f)) folio_put(f); // folio_batch_release
  }
  shmem_recalc_inode(inode, -nr_swaps_freed);
}

/**
 * shmem_setattr() for ATTR_SIZE: set the size, then unmap and remove what
 * lies beyond it; unmap again for the private COWs faulted in meanwhile.
 * We enter with inode_lock held (do_truncate).
 */
export function* shmem_setattr_size(inode: ShmemInode, newsize: number): KGen {
  const oldsize = inode.i_size;
  yield 'shmem_setattr: i_size_write';
  inode.i_size = newsize;
  if (newsize <= oldsize) {
    const holebegin = newsize;
    if (oldsize > holebegin) yield* unmap_mapping_pages(inode.i_mapping, holebegin, 0, true);
    yield* shmem_undo_range(inode, newsize, Infinity); // shmem_truncate_range(inode, newsize, -1)
    // unmap again to remove racily COWed private pages
    if (oldsize > holebegin) yield* unmap_mapping_pages(inode.i_mapping, holebegin, 0, true);
  }
}

/**
 * shmem_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) of pages
 * [offset, offset+len): unmap the shared mappings of the range (private
 * COWs stay), then remove its pages.
 * We enter with inode_lock held.
 */
export function* shmem_punch_hole(inode: ShmemInode, offset: number, len: number): KGen {
  // No need to unmap again: hole-punching leaves COWed pages
  yield* unmap_mapping_pages(inode.i_mapping, offset, len, false);
  yield* shmem_undo_range(inode, offset, offset + len); // shmem_truncate_range(inode, offset, offset + len - 1)
}

/** Is the folio a shmem page-cache folio, or one of shmem's in the swap cache? (For reclaim.) */
export function shmem_folio(folio: Folio): boolean {
  return shmem_mapping(folio.f_mapping);
}

/** A swap entry in some shmem file: for the property checks, the references a slot's count includes. */
export function shmem_swap_entries(m: Machine): { file: File; index: number; entry: XaValue }[] {
  const out: { file: File; index: number; entry: XaValue }[] = [];
  for (const file of shmem_files(m)) {
    const pages = file.f_mapping.i_pages;
    for (let i = 0; i < pages.length; i++) {
      const e = pages[i];
      if (xa_is_value(e)) out.push({ file, index: i, entry: e });
    }
  }
  return out;
}
