import { pfn_folio } from '../engine/mm/page_alloc.ts';
import { is_hugetlb_pt_page } from '../engine/mm/hugetlb.ts';
import { PTRS_PER_PTE, type Folio, type MmStruct, type Pte } from '../engine/mm/mm_types.ts';
import type { Machine } from '../engine/mm/machine.ts';
import type { RunContext } from '../engine/program/executor.ts';

/**
 * Every non-none PTE of an mm that maps base pages, in address order. Huge
 * PTEs (hugetlb page-table pages, possibly shared) map pool pages, not page
 * frames: properties/hugetlb.ts checks those.
 */
export function forEachPte(mm: MmStruct, cb: (address: number, pte: Pte) => void): void {
  const pgd = mm.pgd;
  for (let idx = 0; idx < pgd.length; idx++) {
    const table = pgd[idx];
    if (!table || is_hugetlb_pt_page(table)) continue;
    const ptes = table.ptes;
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const pte = ptes[i]!;
      if (pte.kind !== 'none') cb(idx * PTRS_PER_PTE + i, pte);
    }
  }
}

/**
 * Is some task inside a PT-lock critical section? There the kernel changes a
 * PTE and its rmap in several stores (fork raises mapcount and clears
 * PG_anon_exclusive before it write-protects), so structural checks wait.
 */
export function ptLocksHeld(ctx: RunContext): boolean {
  for (const t of ctx.execution.tasks) for (const h of t.held) if (h.lock.lockClass.name === 'ptlock') return true;
  return false;
}

/** Every folio in use (allocated and not freed), by pfn. */
export function liveFolios(m: Machine): Folio[] {
  const out: Folio[] = [];
  for (const f of m.mem.frames) if (f && !f.kasan.freed) out.push(f);
  return out;
}

export { pfn_folio };
