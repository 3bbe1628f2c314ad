/*
 * mm/gup.c for the model: get_user_pages_remote() with FOLL_GET, used by
 * exec to write its argument pages into the new mm. FOLL_PIN, unsharing and
 * GUP-fast come with [gup].
 */
import { spin_unlock } from '../locking/spinlock.ts';
import type { KGen } from '../sched/task.ts';
import { handle_mm_fault } from './memory.ts';
import { mmap_assert_locked } from './mmap_lock.ts';
import { FAULT_FLAG_REMOTE, FAULT_FLAG_WRITE, VM_FAULT_ERROR, type Folio, type MmStruct } from './mm_types.ts';
import { vma_lookup } from './mmap.ts';
import { folio_get, pfn_folio } from './page_alloc.ts';
import { pte_offset_map_lock, ptep_get } from './pgtable.ts';

export const FOLL_WRITE = 1 << 0;
export const FOLL_GET = 1 << 1;
export const FOLL_FORCE = 1 << 4;

/**
 * follow_page_pte(): the folio at address, with a reference, if its PTE
 * allows the access; undefined if a fault is needed.
 */
function* follow_page_pte(mm: MmStruct, address: number, gup_flags: number): KGen<Folio | undefined> {
  const table = yield* pte_offset_map_lock(mm, address);
  if (!table) return undefined;
  const pte = ptep_get(table, address);
  let folio: Folio | undefined;
  if (pte.kind === 'present' && (!(gup_flags & FOLL_WRITE) || pte.write)) {
    folio = pfn_folio(pte.pfn);
    folio_get(folio);
  }
  yield* spin_unlock(table.ptl);
  return folio;
}

/**
 * get_user_pages_remote() for one page: follow, fault in, follow again.
 * We enter with mmap_lock held for read; we return with it.
 */
export function* get_user_pages_remote(mm: MmStruct, address: number, gup_flags: number): KGen<Folio | undefined> {
  mmap_assert_locked(mm, 'get_user_pages_remote');
  const vma = vma_lookup(mm, address);
  if (!vma) return undefined;
  for (;;) {
    const folio = yield* follow_page_pte(mm, address, gup_flags);
    if (folio) return folio;
    // faultin_page()
    const flags = FAULT_FLAG_REMOTE | (gup_flags & FOLL_WRITE ? FAULT_FLAG_WRITE : 0);
    const ret = yield* handle_mm_fault(vma, address, flags);
    if (ret & VM_FAULT_ERROR) return undefined;
  }
}
