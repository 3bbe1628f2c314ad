/*
 * include/linux/rmap.h, CONFIG_MM_ID (Linux 6.15, as on the live 6.18
 * kernel; the rest of the model's rmap is 6.12): which mms map a large
 * folio. Each large anon folio has two slots, each an mm id and that mm's
 * mapcount (-1 when the slot is free), and one bit, "maybe mapped shared",
 * set once a second mm maps it while the first still does (or a third
 * comes, with no slot for it), and cleared when one slot again holds every
 * mapping. do_wp_page() reads it to reuse a page of a PTE-mapped THP in
 * place (__wp_can_reuse_large_anon_folio, memory.ts) instead of copying it.
 *
 * Every mapping of a large folio is counted here, by the mm of the VMA it
 * is in: fork's duplicate counts for the child (dst_vma), not the parent.
 *
 * Simplified: folio_lock_large_mapcount() (a bit spinlock in _mm_ids) is
 * not a lock object: every update below runs in one step of the model, as
 * the lock makes it atomic in Linux, and the one reader that needs a stable
 * view (__wp_can_reuse_large_anon_folio's recheck) also reads in one step.
 * No 32-bit mapcount overflow; hugetlb folios keep their own count
 * (hugetlb.ts) and never come here.
 */
import { BUG_ON } from '../kernel/current.ts';
import type { Folio, MmStruct, VmArea } from './mm_types.ts';
import { machine } from './machine.ts';

export const MM_ID_DUMMY = 0;
export const MM_ID_MIN = MM_ID_DUMMY + 1;

/** folio->_mm_id[2], ->_mm_id_mapcount[2] and the FOLIO_MM_IDS_SHARED_BIT of ->_mm_ids. */
export class FolioMmIds {
  readonly _mm_id: [number, number] = [MM_ID_DUMMY, MM_ID_DUMMY];
  /** Per slot, that mm's mappings, -1-based: -1 when the slot is free. */
  readonly _mm_id_mapcount: [number, number] = [-1, -1];
  /** FOLIO_MM_IDS_SHARED_BIT: maybe mapped by more than one mm. */
  shared = false;
}

/**
 * mm_alloc_id() (kernel/fork.c): ida_alloc_range(&mm_ida, MM_ID_MIN, ...),
 * the lowest id no live mm has. Called when the mm is made; mm_free_id()
 * is its leaving machine().mms at __mmdrop.
 */
export function mm_alloc_id(): number {
  const used = new Set(machine().mms.map((mm: MmStruct) => mm.mm_id));
  let id = MM_ID_MIN;
  while (used.has(id)) id++;
  return id;
}

function ids(folio: Folio): FolioMmIds {
  BUG_ON(!folio.order || !folio._mm_ids, 'folio_large_mapcount', `${folio.kname} is not large`);
  return folio._mm_ids!;
}

/** folio_test_large_maybe_mapped_shared() */
export function folio_test_large_maybe_mapped_shared(folio: Folio): boolean {
  return ids(folio).shared;
}

/** folio_mm_id(folio, idx) */
export function folio_mm_id(folio: Folio, idx: 0 | 1): number {
  return ids(folio)._mm_id[idx];
}

/**
 * folio_set_large_mapcount(): a fresh large folio's first `mapcount`
 * mappings, all in the VMA's mm (folio_add_new_anon_rmap).
 */
export function folio_set_large_mapcount(folio: Folio, mapcount: number, vma: VmArea): void {
  const m = ids(folio);
  BUG_ON(m._mm_id[0] !== MM_ID_DUMMY || m._mm_id[1] !== MM_ID_DUMMY, 'folio_set_large_mapcount', `${folio.kname} has an mm`);
  m._mm_id_mapcount[0] = mapcount - 1;
  m._mm_id[0] = vma.vm_mm.mm_id;
}

/**
 * folio_add_large_mapcount(): `diff` more mappings in the VMA's mm. The
 * caller has already added them to folio._mapcount (the model's
 * _large_mapcount + 1).
 */
export function folio_add_large_mapcount(folio: Folio, diff: number, vma: VmArea): void {
  const m = ids(folio);
  const mm_id = vma.vm_mm.mm_id;
  // atomic_read(&folio->_large_mapcount), -1-based, after the add.
  const new_mapcount_val = folio._mapcount - 1;
  if (m._mm_id[0] === mm_id) m._mm_id_mapcount[0] += diff;
  else if (m._mm_id[1] === mm_id) m._mm_id_mapcount[1] += diff;
  else if (m._mm_id[0] === MM_ID_DUMMY) {
    m._mm_id[0] = mm_id;
    m._mm_id_mapcount[0] = diff - 1;
    // We might have other mappings already.
    if (new_mapcount_val !== diff - 1) m.shared = true;
  } else if (m._mm_id[1] === MM_ID_DUMMY) {
    m._mm_id[1] = mm_id;
    m._mm_id_mapcount[1] = diff - 1;
    // Slot 0 certainly has mappings as well.
    m.shared = true;
  }
  // Else a third mm, with no slot for it: its mappings are counted only in
  // the total, and the bit is already set (it was when slot 1 was taken;
  // only a slot holding every mapping clears it, which it cannot while the
  // other slot holds one).
}

/**
 * folio_sub_large_mapcount(): `diff` fewer mappings in the VMA's mm (the
 * caller has taken them off folio._mapcount). A slot that goes negative is
 * freed (mappings added while no slot was free are counted in none).
 */
export function folio_sub_large_mapcount(folio: Folio, diff: number, vma: VmArea): void {
  const m = ids(folio);
  const mm_id = vma.vm_mm.mm_id;
  const new_mapcount_val = folio._mapcount - 1;
  for (let i = 0; i < 2; i++) {
    if (m._mm_id[i] !== mm_id) continue;
    m._mm_id_mapcount[i] -= diff;
    if (m._mm_id_mapcount[i] >= 0) return;
    m._mm_id_mapcount[i] = -1;
    m._mm_id[i] = MM_ID_DUMMY;
    break;
  }
  // If one MM slot owns all mappings, the folio is mapped exclusively. Note
  // that if the folio is now unmapped (new_mapcount_val == -1), both slots
  // must be free (mapcount == -1), and we'll also mark it as exclusive.
  if (m._mm_id_mapcount[0] === new_mapcount_val || m._mm_id_mapcount[1] === new_mapcount_val) m.shared = false;
}
