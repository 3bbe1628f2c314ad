import { pfn_folio } from '../engine/mm/page_alloc.ts';
import { is_hugetlb_pt_page } from '../engine/mm/hugetlb.ts';
import { PTRS_PER_PTE, is_pmd_migration_entry, pmd_is_huge, pmd_trans_huge, pte_to_string, type Folio, type MmStruct, type PmdHuge, type PmdMigration, type Pte, type PteTable, type StructPage } from '../engine/mm/mm_types.ts';
import { pfn_to_page } from '../engine/mm/page_alloc.ts';
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
    const table = pgd[idx] ?? collapsing(mm, idx);
    if (!table || pmd_is_huge(table) || is_hugetlb_pt_page(table)) continue;
    const ptes = table.ptes;
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const pte = ptes[i]!;
      if (pte.kind !== 'none') cb(idx * PTRS_PER_PTE + i, pte);
    }
  }
}

/** Every huge PMD (a PMD-mapped THP) of an mm, with the first address it maps. */
export function forEachHugePmd(mm: MmStruct, cb: (haddr: number, pmd: PmdHuge) => void): void {
  const pgd = mm.pgd;
  for (let idx = 0; idx < pgd.length; idx++) {
    const pmd = pgd[idx];
    if (pmd_trans_huge(pmd)) cb(idx * PTRS_PER_PTE, pmd);
  }
}

/** Every PMD migration entry (a PMD-mapped THP under migration) of an mm, with the first address it maps. */
export function forEachPmdMigration(mm: MmStruct, cb: (haddr: number, pmd: PmdMigration) => void): void {
  const pgd = mm.pgd;
  for (let idx = 0; idx < pgd.length; idx++) {
    const pmd = pgd[idx];
    if (is_pmd_migration_entry(pmd)) cb(idx * PTRS_PER_PTE, pmd);
  }
}

/** What the MMU finds at an address: the page frame, and the page whose PG_anon_exclusive speaks for the mapping. */
export interface MappedAt {
  readonly pfn: number;
  readonly write: boolean;
  /** The subpage for a PTE; a THP's head page for a huge PMD. */
  readonly exclusive: StructPage;
  readonly text: string;
}

/** The PTE table khugepaged has taken out of the PMD at idx and still maps the range through (mm.collapse_pmd). */
function collapsing(mm: MmStruct, idx: number): PteTable | undefined {
  return mm.collapse_pmd?.index === idx ? mm.collapse_pmd.table : undefined;
}

export function mappedAt(mm: MmStruct, addr: number): MappedAt | undefined {
  const pmd = mm.pgd[Math.floor(addr / PTRS_PER_PTE)] ?? collapsing(mm, Math.floor(addr / PTRS_PER_PTE));
  if (!pmd) return undefined;
  if (pmd_trans_huge(pmd)) {
    const head = pfn_to_page(pmd.pfn);
    return { pfn: pmd.pfn + (addr % PTRS_PER_PTE), write: pmd.write, exclusive: head, text: `huge pmd pfn ${pmd.pfn}${pmd.write ? ' W' : ' R'}` };
  }
  if (is_pmd_migration_entry(pmd)) return { pfn: -1, write: false, exclusive: undefined as unknown as StructPage, text: `pmd migration pfn ${pmd.pfn} ${pmd.mode}` };
  const pte = pmd.ptes[addr % PTRS_PER_PTE]!;
  if (pte.kind !== 'present') return { pfn: -1, write: false, exclusive: undefined as unknown as StructPage, text: pte_to_string(pte) };
  return { pfn: pte.pfn, write: pte.write, exclusive: pfn_to_page(pte.pfn), text: pte_to_string(pte) };
}

/**
 * Is some task inside a PT-lock critical section? There the kernel changes a
 * PTE and its rmap in several stores (fork raises mapcount and clears
 * PG_anon_exclusive before it write-protects), so structural checks wait.
 */
export function ptLocksHeld(ctx: RunContext): boolean {
  // The PMD lock's sections (THP fault, zap, copy, split) run without a
  // preemption point inside, but for a split with freeze (split_huge_page's
  // unmap_folio), preempted between pmdp_invalidate() and the PTEs.
  for (const t of ctx.execution.tasks) for (const h of t.held) if (h.lock.lockClass.name === 'ptlock' || h.lock.lockClass.name === 'mm->page_table_lock') return true;
  return false;
}

/** Every folio in use (allocated and not freed), by pfn. */
export function liveFolios(m: Machine): Folio[] {
  const out: Folio[] = [];
  // A THP fills several frames: list it once, at its head's.
  const frames = m.mem.frames;
  for (let pfn = 0; pfn < frames.length; pfn++) {
    const f = frames[pfn];
    if (f && !f.kasan.freed && f.pfn === pfn) out.push(f);
  }
  return out;
}

export { pfn_folio };
