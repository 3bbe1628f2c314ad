/*
 * mm/memfd.c and the file syscalls on a memfd for the model (Linux 6.16):
 * memfd_create() (a tmpfs file from shmem_file_setup, without MFD_HUGETLB),
 * ftruncate() (do_truncate -> shmem_setattr), fallocate(PUNCH_HOLE), and
 * mmap() of the file: do_mmap() / mmap_region() with a file (mm/mmap.c,
 * mm/vma.c), MAP_SHARED or MAP_PRIVATE, merging with a neighbour that maps
 * the file on (vma_merge_new_range), then shmem_mmap() and vma_link_file().
 *
 * Files are named by number (the program's handle) and shared by every
 * process, as memfds passed over a socket; they live for the whole run.
 * Sizes and offsets are in pages (the model's addresses are page numbers).
 */
import type { KGen } from '../sched/task.ts';
import {
  EINVAL,
  TASK_SIZE,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_SHARED,
  VmArea,
  type MmStruct,
} from '../mm/mm_types.ts';
import { calc_vm_prot_bits, find_vma, find_vma_prev, get_unmapped_area, vma_link } from '../mm/mmap.ts';
import { mmap_assert_write_locked, mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.ts';
import { ShmemInode, shmem_punch_hole, shmem_sb, shmem_setattr_size } from '../mm/shmem.ts';
import { VMG_STATE, vma_merge_new_range } from '../mm/vma.ts';
import { File, inode_lock, inode_unlock, vma_link_file } from './fs.ts';

export const EEXIST = 17;
export const EBADF = 9;

/** The largest memfd, in pages (MAX_LFS_FILESIZE, for the model's small machine). */
export const MEMFD_MAX_PAGES = 8;

/** The memfd named `name`, if it exists. */
export function memfd_lookup(name: number): File | undefined {
  return shmem_sb().files[name];
}

/**
 * memfd_create() of file `name`, then ftruncate() to `size` pages.
 * 0, -EEXIST, or -EINVAL for a bad size.
 */
export function* memfd_create(name: number, size: number): KGen<number> {
  if (size < 0 || size > MEMFD_MAX_PAGES) return -EINVAL;
  yield 'memfd_create: shmem_file_setup';
  const sb = shmem_sb();
  if (sb.files[name]) return -EEXIST;
  const inode = new ShmemInode(name, `memfd${name}`);
  sb.files[name] = new File(inode);
  inode.i_size = size; // a new file: nothing to truncate
  return 0;
}

/** ftruncate() of memfd `name` to `size` pages: 0, -EBADF or -EINVAL. */
export function* memfd_truncate(name: number, size: number): KGen<number> {
  yield 'ftruncate: fdget';
  const file = memfd_lookup(name);
  if (!file) return -EBADF;
  if (size < 0 || size > MEMFD_MAX_PAGES) return -EINVAL;
  const inode = file.f_inode as ShmemInode;
  yield* inode_lock(inode);
  yield* shmem_setattr_size(inode, size);
  yield* inode_unlock(inode);
  return 0;
}

/** fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) of pages [offset, offset+len) of memfd `name`. */
export function* memfd_punch_hole(name: number, offset: number, len: number): KGen<number> {
  yield 'fallocate: fdget';
  const file = memfd_lookup(name);
  if (!file) return -EBADF;
  if (offset < 0 || len <= 0) return -EINVAL;
  const inode = file.f_inode as ShmemInode;
  yield* inode_lock(inode);
  yield* shmem_punch_hole(inode, offset, len);
  yield* inode_unlock(inode);
  return 0;
}

/**
 * mmap_region() with a file: extend a neighbour mapping the file on, or a
 * new VMA, shmem_mmap() (nothing to set up: file_accessed), linked into the
 * mm and the file's i_mmap. We enter with mmap_lock held for write.
 */
function* mmap_region_file(mm: MmStruct, file: File, addr: number, len: number, vm_flags: number, pgoff: number): KGen<number> {
  const vmg = VMG_STATE(mm, addr, addr + len, vm_flags, pgoff);
  vmg.file = file;
  vmg.prev = find_vma_prev(mm, addr);
  vmg.next = find_vma(mm, addr);
  if (vmg.prev || vmg.next) {
    if (yield* vma_merge_new_range(vmg)) return addr;
  }
  const vma = new VmArea(mm, addr, addr + len, pgoff, vm_flags);
  vma.vm_file = file;
  vma.vm_lock_seq = mm.mm_lock_seq;
  vma_link(mm, vma);
  yield* vma_link_file(vma);
  return addr;
}

/**
 * mmap() of pages [pgoff, pgoff+len) of memfd `name`, MAP_SHARED or
 * MAP_PRIVATE: the address or -errno. The file may be smaller than the
 * mapping: pages beyond i_size fault with SIGBUS.
 */
export function* vm_mmap_memfd(mm: MmStruct, name: number, len: number, prot: number, pgoff: number, shared: boolean): KGen<number> {
  yield 'mmap: fdget';
  const file = memfd_lookup(name);
  if (!file) return -EBADF;
  if (len <= 0 || len > TASK_SIZE || pgoff < 0 || pgoff + len > MEMFD_MAX_PAGES) return -EINVAL;
  yield* mmap_write_lock(mm);
  mmap_assert_write_locked(mm, 'do_mmap');
  let ret = get_unmapped_area(mm, len);
  if (ret >= 0) {
    let vm_flags = calc_vm_prot_bits(prot) | VM_MAYREAD | VM_MAYWRITE;
    if (shared) vm_flags |= VM_SHARED | VM_MAYSHARE;
    ret = yield* mmap_region_file(mm, file, ret, len, vm_flags, pgoff);
  }
  yield* mmap_write_unlock(mm);
  return ret;
}
