/*
 * fs/hugetlbfs/inode.c for the model: hugetlbfs files (inode, page cache of
 * huge folios, size), their MAP_SHARED mmap, truncate (hugetlb_vmtruncate)
 * and hole punch (hugetlbfs_punch_hole), and the mm/mmap.c path that maps a
 * file (do_mmap / mmap_region with a file).
 *
 * Truncate and hole punch unmap every VMA mapping the range and then remove
 * the pages, taking i_mmap_rwsem for write to walk the VMAs. Since
 * i_mmap_rwsem comes after the vma_lock, hugetlb_vmdelete_list() may only
 * trylock each VMA's vma_lock and skips the VMAs it cannot lock (a fault is
 * using their page table). remove_inode_hugepages() then finds those pages
 * still mapped and, under the fault mutex (no new fault can map the page),
 * unmaps them in hugetlb_unmap_file_folio(), which drops i_mmap_rwsem and
 * takes the locks in order, holding a reference on the vma_lock so that it
 * survives the VMA: truncate and hole punch cannot fail for contention
 * (seed 001).
 *
 * Files are named by number (the program's handle) and live for the whole
 * run, as in a hugetlbfs mount nobody unlinks from. Sizes and offsets are in
 * base pages (the model's addresses are page numbers) and always whole huge
 * pages.
 */
import { bit_lock, bit_unlock } from '../locking/bitlock.ts';
import { down_write, up_write } from '../locking/rwsem.ts';
import { mutex_lock, mutex_unlock } from '../locking/mutex.ts';
import { BUG_ON } from '../kernel/current.ts';
import { cond_resched } from '../sched/cond_resched.ts';
import type { KGen } from '../sched/task.ts';
import {
  HPAGE_NR_PAGES,
  hugetlb_delete_from_page_cache,
  hugetlb_fault_mutex,
  hugetlb_fault_mutex_hash,
  hugetlb_folio_put,
  hugetlb_vma_lock_alloc,
  hugetlb_vma_lock_put,
  hugetlb_vma_maps_pfn,
  hugetlb_vma_trylock_write,
  hugetlb_vma_unlock_write,
  unmap_hugepage_range,
  type HugetlbFolio,
  type HugetlbVmaLock,
} from '../mm/hugetlb.ts';
import { kfree } from '../mm/kasan.ts';
import { machine, type Machine } from '../mm/machine.ts';
import {
  EINVAL,
  ENOMEM,
  MMAP_MIN_ADDR,
  TASK_SIZE,
  VM_DONTEXPAND,
  VM_HUGETLB,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_SHARED,
  VM_WRITE,
  VmArea,
  type MmStruct,
} from '../mm/mm_types.ts';
import { calc_vm_prot_bits, vma_link } from '../mm/mmap.ts';
import { mmap_assert_write_locked, mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.ts';
import { folio_get } from '../mm/page_alloc.ts';
import { File, Inode, i_mmap_lock_write, i_mmap_unlock_write, inode_lock, inode_unlock, vma_interval_tree_foreach, vma_link_file, type AddressSpace } from './fs.ts';

export const EEXIST = 17;
export const EBADF = 9;

/** The largest file, in huge pages: the pool's size (there are no reservations). */
export const HUGETLBFS_MAX_HPAGES = 4;

/* ------------------------------------------------------------ the mount */

/** The hugetlbfs mount of one machine: its files by name. */
class HugetlbfsSb {
  readonly files: (File | undefined)[] = [];
}

const sbs = new WeakMap<Machine, HugetlbfsSb>();

function hugetlbfs_sb(m: Machine = machine()): HugetlbfsSb {
  let sb = sbs.get(m);
  if (!sb) sbs.set(m, (sb = new HugetlbfsSb()));
  return sb;
}

/** Every hugetlbfs file of a machine, for property checks (as a debugger would see them). */
export function hugetlbfs_files(m: Machine): readonly File[] {
  return (sbs.get(m)?.files ?? []).filter((f): f is File => f !== undefined);
}

/** The file named `name`, if it exists. */
export function hugetlbfs_lookup(name: number): File | undefined {
  return hugetlbfs_sb().files[name];
}

function hugetlbfs_get_inode(name: number): File {
  // Each hugetlbfs inode's i_mmap_rwsem has hugetlbfs_i_mmap_rwsem_key, and
  // i_rwsem the file system type's key.
  const inode = new Inode(name, `f${name}`, 'hugetlbfs: inode->i_rwsem', 'hugetlbfs_i_mmap_rwsem_key');
  const file = new File(inode);
  hugetlbfs_sb().files[name] = file;
  return file;
}

/**
 * open(O_CREAT | O_EXCL) and ftruncate() of a new file of `size` pages.
 * 0, -EEXIST, or -EINVAL for a size that is not whole huge pages.
 */
export function* hugetlbfs_create(name: number, size: number): KGen<number> {
  if (size < 0 || size % HPAGE_NR_PAGES || size > HUGETLBFS_MAX_HPAGES * HPAGE_NR_PAGES) return -EINVAL;
  yield 'hugetlbfs_create: inode_lock(dir)';
  if (hugetlbfs_lookup(name)) return -EEXIST;
  hugetlbfs_get_inode(name).f_inode.i_size = size;
  return 0;
}

/** open(O_CREAT): the file, created empty if it does not exist. */
function* hugetlbfs_open(name: number): KGen<File> {
  yield 'hugetlbfs_open: inode_lock(dir)';
  return hugetlbfs_lookup(name) ?? hugetlbfs_get_inode(name);
}

/* ------------------------------------------------------------------ mmap */

/**
 * hugetlb_get_unmapped_area(): top-down, as get_unmapped_area(), but aligned
 * to the huge page size, which is also the page-table page's span: so every
 * hugetlb mapping here can share its page tables.
 */
function hugetlb_get_unmapped_area(mm: MmStruct, len: number): number {
  if (len % HPAGE_NR_PAGES) return -EINVAL;
  let high = mm.mmap_base;
  for (let i = mm.mmap.length - 1; i >= -1; i--) {
    const vma = i >= 0 ? mm.mmap[i]! : undefined;
    if (vma && vma.vm_start >= high) continue;
    const low = vma ? vma.vm_end : MMAP_MIN_ADDR;
    const cand = high - len - ((high - len) % HPAGE_NR_PAGES);
    if (high - len >= 0 && cand >= low) return cand;
    if (!vma) break;
    high = vma.vm_start;
  }
  return -ENOMEM;
}

/**
 * hugetlbfs_file_mmap(): call_mmap() for hugetlbfs. Marks the VMA hugetlb,
 * gives it its vma_lock (hugetlb_reserve_pages; the model keeps no
 * reservations), and a writable mapping extends the file to cover it.
 * We enter with mmap_lock held for write; we take inode_lock under it.
 */
function* hugetlbfs_file_mmap(file: File, vma: VmArea): KGen<number> {
  const inode = file.f_inode;
  vma.vm_flags |= VM_HUGETLB | VM_DONTEXPAND;
  // must be huge page aligned
  if (vma.vm_pgoff % HPAGE_NR_PAGES) return -EINVAL;
  const len = vma.vm_end - vma.vm_start + vma.vm_pgoff;
  if (len > HUGETLBFS_MAX_HPAGES * HPAGE_NR_PAGES) return -ENOMEM;
  yield* inode_lock(inode);
  // vma specific semaphore used for pmd sharing and fault/truncation synchronization
  hugetlb_vma_lock_alloc(vma);
  if (vma.vm_flags & VM_WRITE && inode.i_size < len) inode.i_size = len; // i_size_write
  yield* inode_unlock(inode);
  return 0;
}

/**
 * do_mmap() + mmap_region() for a MAP_SHARED mapping of `file` at page
 * offset pgoff: never merged (VM_DONTEXPAND), linked into the mm's tree and
 * then into the file's i_mmap. The address or -errno.
 * We enter with mmap_lock held for write.
 */
function* do_mmap_file(mm: MmStruct, file: File, len: number, prot: number, pgoff: number): KGen<number> {
  mmap_assert_write_locked(mm, 'do_mmap');
  if (len <= 0 || len > TASK_SIZE) return -EINVAL;
  const addr = hugetlb_get_unmapped_area(mm, len);
  if (addr < 0) return addr;
  const vm_flags = calc_vm_prot_bits(prot) | VM_MAYREAD | VM_MAYWRITE | VM_SHARED | VM_MAYSHARE;
  const vma = new VmArea(mm, addr, addr + len, pgoff, vm_flags);
  vma.vm_file = file;
  const err = yield* hugetlbfs_file_mmap(file, vma);
  if (err) {
    kfree(vma);
    return err;
  }
  vma.vm_lock_seq = mm.mm_lock_seq;
  vma_link(mm, vma);
  yield* vma_link_file(vma);
  return addr;
}

/**
 * mmap(MAP_SHARED) of hugetlbfs file `name` (opened with O_CREAT) at page
 * offset pgoff: the syscall, under mmap_lock for write. The address or
 * -errno.
 */
export function* vm_mmap_hugetlbfs(mm: MmStruct, name: number, len: number, prot: number, pgoff: number): KGen<number> {
  const file = yield* hugetlbfs_open(name);
  yield* mmap_write_lock(mm);
  const ret = yield* do_mmap_file(mm, file, len, prot, pgoff);
  yield* mmap_write_unlock(mm);
  return ret;
}

/* ------------------------------------------------ unmapping file pages */

/** vma_offset_start(): where file page `start` lies in vma (or its start). */
function vma_offset_start(vma: VmArea, start: number): number {
  return vma.vm_start + (vma.vm_pgoff < start ? start - vma.vm_pgoff : 0);
}

/** vma_offset_end(): where file page `end` lies in vma (or its end); end 0 is "to the end". */
function vma_offset_end(vma: VmArea, end: number): number {
  if (!end) return vma.vm_end;
  const t_end = end - vma.vm_pgoff + vma.vm_start;
  return t_end > vma.vm_end ? vma.vm_end : t_end;
}

/**
 * hugetlb_vmdelete_list(): unmap file pages [start, end) (end 0: to the end
 * of the file) from every VMA mapping them. We hold i_mmap_rwsem, which
 * comes after the vma_lock: a VMA whose lock we cannot get at once is
 * skipped, and remove_inode_hugepages() unmaps what it left mapped.
 * We enter with i_mmap_rwsem held for write.
 */
function* hugetlb_vmdelete_list(mapping: AddressSpace, start: number, end: number): KGen {
  for (const vma of vma_interval_tree_foreach(mapping, start, end ? end - 1 : Infinity)) {
    if (!(yield* hugetlb_vma_trylock_write(vma))) continue;
    yield* unmap_hugepage_range(vma, vma_offset_start(vma, start), vma_offset_end(vma, end));
    // The vma lock only exists for shareable VMAs: a VMA whose final unmap
    // freed it was "locked" without one.
    yield* hugetlb_vma_unlock_write(vma);
  }
}

/**
 * hugetlb_unmap_file_folio(): unmap one page-cache folio, at file index
 * `index` (in huge pages), from every VMA still mapping it. A VMA whose
 * vma_lock we cannot trylock under i_mmap_rwsem is handled by dropping
 * i_mmap_rwsem and taking the locks in order: first a reference on the
 * vma_lock, so that it survives the VMA going away meanwhile; then the
 * vma_lock for write; then i_mmap_rwsem. If the lock is still attached to
 * its VMA, unmap there; either way, look again.
 * We enter with the fault mutex of `index` held: no fault can map the folio
 * again; we return with it.
 */
function* hugetlb_unmap_file_folio(mapping: AddressSpace, folio: HugetlbFolio, index: number): KGen {
  const start = index * HPAGE_NR_PAGES;
  const end = start + HPAGE_NR_PAGES;
  const pfn = folio.pfn;
  yield* i_mmap_lock_write(mapping);
  for (;;) {
    // retry:
    let vma_lock: HugetlbVmaLock | undefined;
    for (const vma of vma_interval_tree_foreach(mapping, start, end - 1)) {
      const v_start = vma_offset_start(vma, start);
      const v_end = vma_offset_end(vma, end);
      if (!(yield* hugetlb_vma_maps_pfn(vma, v_start, pfn))) continue;
      if (!(yield* hugetlb_vma_trylock_write(vma))) {
        // If we can not get vma lock, we need to drop i_mmap_rwsem and take
        // locks in order. First, take a ref on the vma_lock structure so
        // that we can be guaranteed it will not go away when dropping
        // i_mmap_rwsem.
        vma_lock = vma.vm_private_data!;
        vma_lock.refs++;
        break;
      }
      yield* unmap_hugepage_range(vma, v_start, v_end);
      yield* hugetlb_vma_unlock_write(vma);
    }
    yield* i_mmap_unlock_write(mapping);
    if (!vma_lock) return;

    // Wait on vma_lock. We know it is still valid as we have a reference.
    // We must 'open code' vma locking as we do not know if vma_lock is
    // still attached to vma.
    yield* down_write(vma_lock.rw_sema);
    yield* i_mmap_lock_write(mapping);
    const vma = vma_lock.vma;
    if (!vma) {
      // The lock is no longer attached to a VMA: unlock, drop our reference
      // and look for other VMAs.
      yield* up_write(vma_lock.rw_sema);
      hugetlb_vma_lock_put(vma_lock);
      continue;
    }
    // vma_lock is still attached to vma: does it still map the folio?
    const v_start = vma_offset_start(vma, start);
    const v_end = vma_offset_end(vma, end);
    if (yield* hugetlb_vma_maps_pfn(vma, v_start, pfn)) yield* unmap_hugepage_range(vma, v_start, v_end);
    hugetlb_vma_lock_put(vma_lock);
    yield* hugetlb_vma_unlock_write(vma);
  }
}

/**
 * remove_inode_single_folio(): a folio mapped again since
 * hugetlb_vmdelete_list() (or left mapped by it) is unmapped, under the
 * fault mutex; then it leaves the page cache.
 * We enter with the fault mutex of `index` held and a reference on folio.
 */
function* remove_inode_single_folio(mapping: AddressSpace, folio: HugetlbFolio, index: number): KGen {
  yield 'remove_inode_single_folio: folio_mapped';
  if (folio._mapcount > 0) yield* hugetlb_unmap_file_folio(mapping, folio, index);
  yield* bit_lock(folio.lock);
  hugetlb_delete_from_page_cache(folio);
  yield* bit_unlock(folio.lock);
}

/**
 * remove_inode_hugepages(): remove the page-cache folios of pages
 * [lstart, lend) of the file, each under its fault mutex.
 * We enter with inode_lock held.
 */
function* remove_inode_hugepages(inode: Inode, lstart: number, lend: number): KGen {
  const mapping = inode.i_mapping;
  const end = lend / HPAGE_NR_PAGES;
  let next = lstart / HPAGE_NR_PAGES;
  for (;;) {
    // filemap_get_folios(): the cached folios from next on, each referenced.
    yield 'remove_inode_hugepages: filemap_get_folios';
    const batch: HugetlbFolio[] = [];
    for (let i = next; i < Math.min(end, mapping.i_pages.length); i++) {
      const f = mapping.i_pages[i] as HugetlbFolio | undefined;
      if (!f) continue;
      folio_get(f);
      batch.push(f);
    }
    if (batch.length === 0) break;
    next = batch[batch.length - 1]!.index + 1;
    for (const folio of batch) {
      const index = folio.index;
      const hash = hugetlb_fault_mutex_hash(mapping, index);
      yield* mutex_lock(hugetlb_fault_mutex(hash));
      yield* remove_inode_single_folio(mapping, folio, index);
      yield* mutex_unlock(hugetlb_fault_mutex(hash));
    }
    for (const f of batch) hugetlb_folio_put(f); // folio_batch_release
    yield* cond_resched();
  }
}

/* ------------------------------------------------ truncate, hole punch */

/**
 * hugetlb_vmtruncate(): set the size, unmap what lies beyond it from every
 * VMA, remove those pages. We enter with inode_lock held.
 */
function* hugetlb_vmtruncate(inode: Inode, offset: number): KGen {
  BUG_ON(offset % HPAGE_NR_PAGES !== 0, 'hugetlb_vmtruncate', `offset ${offset} not huge page aligned`);
  const mapping = inode.i_mapping;
  yield 'hugetlb_vmtruncate: i_size_write';
  inode.i_size = offset;
  yield* i_mmap_lock_write(mapping);
  if (mapping.i_mmap.length > 0) yield* hugetlb_vmdelete_list(mapping, offset, 0);
  yield* i_mmap_unlock_write(mapping);
  yield* remove_inode_hugepages(inode, offset, Infinity);
}

/**
 * ftruncate() of hugetlbfs file `name` to `size` pages (do_truncate ->
 * hugetlbfs_setattr): 0, -EBADF, or -EINVAL for a size that is not whole
 * huge pages.
 */
export function* hugetlbfs_truncate(name: number, size: number): KGen<number> {
  yield 'ftruncate: fdget';
  const file = hugetlbfs_lookup(name);
  if (!file) return -EBADF;
  if (size < 0 || size % HPAGE_NR_PAGES || size > HUGETLBFS_MAX_HPAGES * HPAGE_NR_PAGES) return -EINVAL;
  const inode = file.f_inode;
  yield* inode_lock(inode);
  yield* hugetlb_vmtruncate(inode, size);
  yield* inode_unlock(inode);
  return 0;
}

/**
 * hugetlbfs_punch_hole(): fallocate(FALLOC_FL_PUNCH_HOLE | KEEP_SIZE) of
 * pages [offset, offset+len) of file `name`: the whole huge pages inside
 * are unmapped and removed, and read back as zero. 0 or -EBADF.
 */
export function* hugetlbfs_punch_hole(name: number, offset: number, len: number): KGen<number> {
  yield 'fallocate: fdget';
  const file = hugetlbfs_lookup(name);
  if (!file) return -EBADF;
  if (offset < 0 || len <= 0) return -EINVAL;
  const inode = file.f_inode;
  const mapping = inode.i_mapping;
  // hole_start and hole_end indicate the full pages within the hole.
  const hole_start = Math.ceil(offset / HPAGE_NR_PAGES) * HPAGE_NR_PAGES;
  const hole_end = Math.floor((offset + len) / HPAGE_NR_PAGES) * HPAGE_NR_PAGES;
  yield* inode_lock(inode);
  yield* i_mmap_lock_write(mapping);
  // Unmap users of full pages in the hole.
  if (hole_end > hole_start && mapping.i_mmap.length > 0) yield* hugetlb_vmdelete_list(mapping, hole_start, hole_end);
  yield* i_mmap_unlock_write(mapping);
  // Remove full pages from the file.
  if (hole_end > hole_start) yield* remove_inode_hugepages(inode, hole_start, hole_end);
  yield* inode_unlock(inode);
  return 0;
}
