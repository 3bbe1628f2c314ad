// The setup shared by the test/engine/mm/mprotect.*.spec.ts files.
import assert from 'node:assert/strict';
import type { KGen } from '../../../engine/index.ts';
import { migrate_folio } from '../../../engine/mm/migrate.ts';
import { type Folio, type MmStruct, type PtePresent } from '../../../engine/mm/mm_types.ts';
import { folio_get } from '../../../engine/mm/page_alloc.ts';
import { kernel, pteAt } from '../harness.ts';

export const EFAULT = -14;
export const NONE = 0;

export const present = (mm: MmStruct, a: number): PtePresent => {
  const p = pteAt(mm, a);
  assert.ok(p && p.kind === 'present', `no present PTE at ${a}: ${p?.kind}`);
  return p;
};

export function* migrate(f: Folio): KGen<boolean> {
  folio_get(f); // the isolation reference, which migrate_folio drops
  return yield* migrate_folio(f);
}

/**
 * mprotect(PROT_NONE) (mm/mprotect.c change_pte_range(): pte_modify() with
 * the VMA's new vm_page_prot): the PTEs stay present for the kernel but
 * become protnone, so the MMU faults on every user access and
 * do_user_addr_fault()'s access_error() refuses it (SIGSEGV: EFAULT here).
 */

/** mremap() to the size a mapping already has (mm/mremap.c: old_len == new_len returns addr). */
