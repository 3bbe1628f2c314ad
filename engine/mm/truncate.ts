/*
 * mm/truncate.c for the model (Linux 6.16): truncate_inode_folio(), which
 * shmem_undo_range() calls for each folio it removes. No buffers, no
 * writeback, no large folios: a folio still mapped is unmapped from every
 * shared mapping (private COWs stay), then leaves the page cache.
 */
import type { KGen } from '../sched/task.ts';
import type { AddressSpace } from '../fs/fs.ts';
import { filemap_remove_folio } from './filemap.ts';
import { unmap_mapping_folio } from './memory.ts';
import { PG_dirty, type Folio } from './mm_types.ts';

export const EIO = 5;

/** truncate_cleanup_folio(): unmap it if mapped, and cancel its dirty state. We enter with the folio locked. */
function* truncate_cleanup_folio(folio: Folio): KGen {
  if (folio._mapcount > 0) yield* unmap_mapping_folio(folio);
  folio.flags &= ~PG_dirty; // folio_cancel_dirty()
}

/** truncate_inode_folio(): 0, or -EIO if the folio already left this mapping. We enter with the folio locked. */
export function* truncate_inode_folio(mapping: AddressSpace, folio: Folio): KGen<number> {
  if (folio.f_mapping !== mapping) return -EIO;
  yield* truncate_cleanup_folio(folio);
  yield* filemap_remove_folio(folio);
  return 0;
}
