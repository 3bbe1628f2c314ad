import { report } from '../engine/kernel/current.ts';
import { xa_is_value } from '../engine/fs/fs.ts';
import type { Machine } from '../engine/mm/machine.ts';
import type { Folio, MmStruct } from '../engine/mm/mm_types.ts';
import { shmem_files, shmem_swap_entries } from '../engine/mm/shmem.ts';
import type { RunContext } from '../engine/program/executor.ts';

/*
 * shmem's part of the structural properties: a page-cache folio is found by
 * rmap through its file's i_mmap, holds the page cache's reference, and the
 * swap entries in a file's page cache are references on their slots. Files
 * outlive the processes: at the end their pages are in the page cache alone.
 */

/** Would rmap_walk_file from the folio visit (mm, address)? The same computation as vma_address(). */
export function fileRmapFinds(folio: Folio, mm: MmStruct, address: number): boolean {
  const mapping = folio.f_mapping;
  if (!mapping) return false;
  // A split or merge has the VMA out of the tree while it holds i_mmap_rwsem for write.
  if (mapping.i_mmap_rwsem.writer !== undefined) return true;
  for (const vma of mapping.i_mmap) {
    if (vma.vm_mm !== mm) continue;
    if (vma.vm_start + (folio.index - vma.vm_pgoff) === address && address >= vma.vm_start && address < vma.vm_end) return true;
  }
  return false;
}

/** The page cache's reference: 1 for a folio in a file's page cache. */
export function pageCacheRefs(folio: Folio): number {
  return folio.f_mapping ? 1 : 0;
}

/** The references the shmem files hold on swap slots, keyed as `key` says. */
export function shmemSwapRefs(m: Machine, refs: Map<number, number>, key: (type: number, offset: number) => number): void {
  for (const { entry } of shmem_swap_entries(m)) {
    const k = key(entry.type, entry.offset);
    refs.set(k, (refs.get(k) ?? 0) + 1);
  }
}

/** Is any shmem file on this machine? (Only then do the swap-count windows below exist.) */
export function shmemInUse(m: Machine): boolean {
  return shmem_files(m).length > 0;
}

/** Folios the shmem files still hold at the end: their page caches. */
export function shmemLiveAtEnd(ctx: RunContext, kind: string): number {
  if (kind !== 'folio') return 0;
  let n = 0;
  for (const file of shmem_files(ctx.machine)) for (const f of file.f_mapping.i_pages) if (f && !xa_is_value(f)) n++;
  return n;
}

/** At the end: no VMA left in any file's i_mmap; page-cache pages unmapped and referenced by the cache alone; no swap left. */
export function checkShmemAtEnd(ctx: RunContext): void {
  for (const file of shmem_files(ctx.machine)) {
    const mapping = file.f_mapping;
    if (mapping.i_mmap.length > 0) report('refcounts', `leak after all processes exited: ${mapping.i_mmap.join(', ')} still in ${file}'s i_mmap`);
    mapping.i_pages.forEach((f, index) => {
      if (!f) return;
      if (xa_is_value(f)) {
        report('no-stale-swap-handles', `after swapoff of every device, ${file} index ${index} still holds swap entry ${f.type}:${f.offset}`);
        return;
      }
      if (f._refcount !== 1 || f._mapcount !== 0 || f.index !== index || f.f_mapping !== mapping) {
        report('refcounts', `leak after all processes exited: ${f.kname} at index ${index} of ${file} has refcount ${f._refcount}, mapcount ${f._mapcount}`);
      }
    });
  }
}
