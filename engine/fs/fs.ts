/*
 * include/linux/fs.h for the model: struct inode, struct address_space and
 * struct file; the i_mmap interval tree and its rwsem; and the file-VMA
 * halves of mm/mmap.c (vma_link_file, unlink_file_vma, the i_mmap side of
 * vma_prepare / vma_complete) and kernel/fork.c (dup_mmap's `if (file)`
 * block), kept here so that the anon model's files stay anon. The file
 * systems are hugetlbfs (engine/fs/hugetlbfs.ts) and shmem/tmpfs
 * (engine/mm/shmem.ts, with memfd_create in engine/fs/memfd.ts).
 *
 * i_mmap_rwsem is what rmap-by-file (truncate, hole punch) walks the VMAs
 * under, and, for hugetlb, what PMD sharing is set up (read) and torn down
 * (write) under. A VMA is in i_mmap from vma_link_file until unlink_file_vma
 * in free_pgtables, so a walker holding i_mmap_rwsem never sees a freed VMA.
 */
import { down_read, down_write, up_read, up_write } from '../locking/rwsem.ts';
import { RwSemaphore } from '../locking/rwsem.ts';
import { Spinlock } from '../locking/spinlock.ts';
import { BUG_ON, WARN_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { hugetlb_dup_vma_private, hugetlb_vm_op_open, is_vm_hugetlb_page } from '../mm/hugetlb.ts';
import type { Folio, VmArea } from '../mm/mm_types.ts';

/**
 * An xarray value entry: what shmem stores in i_pages for a page that is out
 * on swap (swp_to_radix_entry). Immutable, so that `entry === radswap`
 * compares as the kernel's pointer compare does.
 */
export interface XaValue {
  readonly xa_value: true;
  readonly type: number;
  readonly offset: number;
}

export function swp_to_radix_entry(type: number, offset: number): XaValue {
  return Object.freeze({ xa_value: true as const, type, offset });
}

export function xa_is_value(entry: Folio | XaValue | undefined): entry is XaValue {
  return entry !== undefined && (entry as XaValue).xa_value === true;
}

/** struct address_space: the page cache and the VMAs that map a file. */
export class AddressSpace {
  /** mapping->i_mmap: the VMAs mapping the file, by vm_pgoff (an interval tree in Linux). */
  readonly i_mmap: VmArea[] = [];
  readonly i_mmap_rwsem: RwSemaphore;
  /**
   * mapping->i_pages: the page cache, by file index (in huge pages for
   * hugetlbfs): folios, and for shmem the swap entries of pages out on swap.
   */
  readonly i_pages: (Folio | XaValue | undefined)[] = [];
  private xaLock: Spinlock | undefined;

  constructor(
    readonly host: Inode,
    i_mmap_key: string,
  ) {
    this.i_mmap_rwsem = new RwSemaphore(`i_mmap_rwsem(${host.name})`, i_mmap_key);
  }

  /** xa_lock(&mapping->i_pages), made on first use (hugetlbfs uses none). */
  get xa_lock(): Spinlock {
    return (this.xaLock ??= new Spinlock(`i_pages(${this.host.name})`, 'mapping->i_pages'));
  }
}

/** struct inode. i_size is in (base) pages: the model's addresses are page numbers. */
export class Inode {
  i_size = 0;
  /** inode->i_rwsem (inode_lock): truncate and hole punch hold it for their length. */
  readonly i_rwsem: RwSemaphore;
  readonly i_mapping: AddressSpace;

  constructor(
    readonly i_ino: number,
    readonly name: string,
    i_rwsem_key: string,
    i_mmap_key: string,
  ) {
    this.i_rwsem = new RwSemaphore(`i_rwsem(${name})`, i_rwsem_key);
    this.i_mapping = new AddressSpace(this, i_mmap_key);
  }
}

/** struct file: what a mapping's vm_file points at. Files live as long as the run. */
export class File {
  readonly f_mapping: AddressSpace;

  constructor(readonly f_inode: Inode) {
    this.f_mapping = f_inode.i_mapping;
  }

  toString(): string {
    return this.f_inode.name;
  }
}

/* ------------------------------------------------------------ i_mmap lock */

export function* i_mmap_lock_write(mapping: AddressSpace): KGen {
  yield* down_write(mapping.i_mmap_rwsem);
}

export function* i_mmap_unlock_write(mapping: AddressSpace): KGen {
  yield* up_write(mapping.i_mmap_rwsem);
}

export function* i_mmap_lock_read(mapping: AddressSpace): KGen {
  yield* down_read(mapping.i_mmap_rwsem);
}

export function* i_mmap_unlock_read(mapping: AddressSpace): KGen {
  yield* up_read(mapping.i_mmap_rwsem);
}

/** i_mmap_assert_write_locked(): lockdep_assert_held_write, a WARN. */
export function i_mmap_assert_write_locked(mapping: AddressSpace, fn: string): void {
  WARN_ON(!mapping.i_mmap_rwsem.heldByCurrent() || mapping.i_mmap_rwsem.writer === undefined, fn, `${mapping.i_mmap_rwsem.name} not held for write`);
}

export function inode_lock(inode: Inode): KGen {
  return down_write(inode.i_rwsem);
}

export function inode_unlock(inode: Inode): KGen {
  return up_write(inode.i_rwsem);
}

/* -------------------------------------------------- the i_mmap interval tree */

/** The last file page a VMA maps (vma_last_pgoff). */
export function vma_last_pgoff(vma: VmArea): number {
  return vma.vm_pgoff + (vma.vm_end - vma.vm_start) - 1;
}

/** vma_interval_tree_insert(): by vm_pgoff, after equal keys. We enter with i_mmap_rwsem held for write. */
export function vma_interval_tree_insert(vma: VmArea, mapping: AddressSpace): void {
  const tree = mapping.i_mmap;
  let i = tree.length;
  while (i > 0 && tree[i - 1]!.vm_pgoff > vma.vm_pgoff) i--;
  tree.splice(i, 0, vma);
}

/** vma_interval_tree_insert_after(): fork puts the child right after its parent. */
export function vma_interval_tree_insert_after(vma: VmArea, prev: VmArea, mapping: AddressSpace): void {
  const i = mapping.i_mmap.indexOf(prev);
  BUG_ON(i < 0, 'vma_interval_tree_insert_after', `${prev} not in ${mapping.i_mmap_rwsem.name}'s tree`);
  mapping.i_mmap.splice(i + 1, 0, vma);
}

export function vma_interval_tree_remove(vma: VmArea, mapping: AddressSpace): void {
  const i = mapping.i_mmap.indexOf(vma);
  BUG_ON(i < 0, 'vma_interval_tree_remove', `${vma} not in ${mapping.i_mmap_rwsem.name}'s tree`);
  mapping.i_mmap.splice(i, 1);
}

/**
 * vma_interval_tree_foreach(): the VMAs that map any of file pages
 * [first, last], in tree order. A snapshot: the tree cannot change under the
 * caller, who holds i_mmap_rwsem.
 */
export function vma_interval_tree_foreach(mapping: AddressSpace, first: number, last: number): VmArea[] {
  return mapping.i_mmap.filter((v) => v.vm_pgoff <= last && vma_last_pgoff(v) >= first);
}

/* ------------------------------------------------- file VMAs (mm/mmap.c) */

/** vma_link_file(): a new file VMA goes into its file's i_mmap. */
export function* vma_link_file(vma: VmArea): KGen {
  const file = vma.vm_file;
  if (!file) return;
  yield* i_mmap_lock_write(file.f_mapping);
  vma_interval_tree_insert(vma, file.f_mapping);
  yield* i_mmap_unlock_write(file.f_mapping);
}

/**
 * unlink_file_vma(): hide the VMA from rmap and truncate before its page
 * tables are freed (free_pgtables calls it first).
 */
export function* unlink_file_vma(vma: VmArea): KGen {
  const file = vma.vm_file;
  if (!file) return;
  yield* i_mmap_lock_write(file.f_mapping);
  vma_interval_tree_remove(vma, file.f_mapping);
  yield* i_mmap_unlock_write(file.f_mapping);
}

/**
 * The i_mmap half of vma_prepare(): take i_mmap_rwsem for write, put the
 * VMA a split inserts into the tree, and take `vma` out while its range
 * (the tree key) changes. We return with i_mmap_rwsem held for write.
 */
export function* vma_prepare_file(vma: VmArea, insert: VmArea | undefined, adj_next?: VmArea): KGen {
  const file = vma.vm_file;
  if (!file) return;
  yield* i_mmap_lock_write(file.f_mapping);
  if (insert?.vm_file) vma_interval_tree_insert(insert, insert.vm_file.f_mapping);
  vma_interval_tree_remove(vma, file.f_mapping);
  if (adj_next) vma_interval_tree_remove(adj_next, file.f_mapping);
}

/**
 * The i_mmap half of vma_complete(): put `vma` (and the neighbour whose
 * start moved) back with the new ranges, take the VMAs a merge removes out
 * of the tree (__remove_shared_vm_struct), and unlock.
 */
export function* vma_complete_file(vma: VmArea, adj_next?: VmArea, removes: readonly (VmArea | undefined)[] = []): KGen {
  const file = vma.vm_file;
  if (!file) return;
  if (adj_next) vma_interval_tree_insert(adj_next, file.f_mapping);
  vma_interval_tree_insert(vma, file.f_mapping);
  for (const r of removes) if (r) vma_interval_tree_remove(r, file.f_mapping);
  yield* i_mmap_unlock_write(file.f_mapping);
}

/**
 * dup_mmap()'s `if (file)` block and what follows it for a file VMA: the
 * child's VMA goes into i_mmap right after its parent's; a hugetlb VMA drops
 * the vma_lock vm_area_dup() copied from the parent and gets its own
 * (hugetlb_dup_vma_private, then vm_ops->open).
 * We enter with both mmap_locks held for write.
 */
export function* dup_mmap_file(tmp: VmArea, mpnt: VmArea): KGen {
  const file = tmp.vm_file;
  if (!file) return;
  yield* i_mmap_lock_write(file.f_mapping);
  // insert tmp into the share list, just after mpnt
  vma_interval_tree_insert_after(tmp, mpnt, file.f_mapping);
  yield* i_mmap_unlock_write(file.f_mapping);
  if (is_vm_hugetlb_page(tmp)) {
    hugetlb_dup_vma_private(tmp);
    hugetlb_vm_op_open(tmp);
  }
}
