/*
 * mm/page_io.c (Linux 6.12) for the model: the swap device's "I/O" is a
 * copy between the folio and its slot in si->swap_file, done under the folio
 * lock (as writeback and read I/O are, in effect, for the pages they cover).
 * Its callers keep the device alive: a swap cache folio (SWAP_HAS_CACHE), or
 * get_swap_device() on do_swap_page's skip-swapcache path.
 */
import { BUG_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { PG_dirty, type Folio } from './mm_types.ts';
import type { SwpEntry } from './swap.ts';
import { swp_swap_info } from './swapfile.ts';

/** swap_writepage(): write the folio's contents to its slot. We enter with the folio locked. */
export function* swap_writepage(folio: Folio): KGen {
  BUG_ON(!folio.lock.isLocked(), 'swap_writepage', `${folio.kname} not locked`);
  const entry = folio.swap!;
  yield 'swap_writepage: write to slot';
  swp_swap_info(entry)!.swap_file!.slots[entry.offset] = [...folio.data];
  folio.flags &= ~PG_dirty;
}

/** swap_read_folio(): fill a fresh swap cache folio from its slot. We enter with the folio locked. */
export function* swap_read_folio(folio: Folio, entry: SwpEntry): KGen {
  BUG_ON(!folio.lock.isLocked(), 'swap_read_folio', `${folio.kname} not locked`);
  yield 'swap_read_folio: read slot';
  folio.data = [...swp_swap_info(entry)!.swap_file!.slots[entry.offset]!];
}
