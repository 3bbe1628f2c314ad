import { report } from '../engine/kernel/current.ts';
import { kobject_freed } from '../engine/mm/kasan.ts';
import { VM_STACK_INCOMPLETE_SETUP, is_huge_zero_pmd, is_zero_pfn, type Folio, type MmStruct } from '../engine/mm/mm_types.ts';
import type { RunContext } from '../engine/program/executor.ts';
import type { Property } from './property.ts';
import { forEachHugePmd, forEachPmdMigration, forEachPte, liveFolios, pfn_folio, ptLocksHeld } from './walk.ts';
import { checkHugetlbRmap } from './hugetlb.ts';
import { fileRmapFinds } from './shmem.ts';
import { folio_test_anon } from '../engine/mm/rmap.ts';

/**
 * Would rmap_walk from the folio visit (mm, address) for its page `subpage`
 * (0 for a small folio; a THP's pages sit at folio->index + i)? The same
 * computation as vma_address().
 */
function rmapFinds(folio: Folio, mm: MmStruct, address: number, subpage = 0, updating?: ReadonlySet<string>): boolean {
  if (!folio_test_anon(folio)) return fileRmapFinds(folio, mm, address);
  const anon_vma = folio.mapping;
  if (!anon_vma) return false;
  // A VMA change holds the tree's lock for write while its AVCs are out of
  // the tree (vma_prepare .. vma_complete); a real rmap_walk waits for it.
  if (updating?.has(anon_vma.root.rwsem.name)) return true;
  const index = folio.index + subpage;
  for (const avc of anon_vma.rb_root) {
    const vma = avc.vma;
    if (vma.vm_mm !== mm) continue;
    if (vma.vm_start + (index - vma.vm_pgoff) === address && address >= vma.vm_start && address < vma.vm_end) return true;
  }
  return false;
}

/** The anon_vma trees some task is changing: their root rwsems, held for write. */
function anonVmasWriteLocked(ctx: RunContext): Set<string> {
  const out = new Set<string>();
  for (const t of ctx.execution.tasks) for (const h of t.held) if (!h.read && h.lock.lockClass.name === 'anon_vma->rwsem') out.add(h.lock.name);
  return out;
}

/** Exec's stack while it moves: rmap cannot find its pages, by design, and migration skips it. */
function inIncompleteStack(mm: MmStruct, address: number): boolean {
  for (const vma of mm.mmap) {
    if (vma.vm_start <= address && address < vma.vm_end) return (vma.vm_flags & VM_STACK_INCOMPLETE_SETUP) !== 0;
  }
  return false;
}

/**
 * Every present PTE (or migration entry) that maps a folio is found by rmap_walk from the folio,
 * and a folio's mapcount equals the PTEs that map it. Checked after every op
 * at which no task is inside a PT-lock critical section.
 */
export function checkRmapCompleteness(ctx: RunContext): void {
  const updating = anonVmasWriteLocked(ctx);
  const seen = new Map<Folio, number>();
  // A THP's mappings: PMDs (its entire mapcount), and PTEs per subpage.
  const pmds = new Map<Folio, number>();
  const pagePtes = new Map<number, number>();
  for (const mm of ctx.machine.mms) {
    forEachHugePmd(mm, (haddr, pmd) => {
      // The huge zero folio is a special mapping too: no rmap, no mapcount.
      if (is_huge_zero_pmd(pmd)) return;
      const folio = pfn_folio(pmd.pfn);
      seen.set(folio, (seen.get(folio) ?? 0) + 1);
      pmds.set(folio, (pmds.get(folio) ?? 0) + 1);
      if (!rmapFinds(folio, mm, haddr, 0, updating)) {
        report('rmap-completeness', `${mm.kname} (${mm.owner}) maps THP ${folio.kname} by its PMD at ${haddr}, but rmap_walk from it (index ${folio.index}) does not find that PMD`);
      }
    });
    // A PMD migration entry holds no mapping, but rmap must find it, or it cannot be restored.
    forEachPmdMigration(mm, (haddr, pmd) => {
      const f = ctx.machine.mem.frames[pmd.pfn];
      if (!f || kobject_freed(f)) return;
      if (!rmapFinds(f, mm, haddr, pmd.pfn - f.pfn, updating)) {
        report('rmap-completeness', `${mm.kname} (${mm.owner}) has a PMD migration entry for THP ${f.kname} at ${haddr}, but rmap_walk from it (index ${f.index}) does not find it`);
      }
    });
    forEachPte(mm, (address, pte) => {
      if (pte.kind === 'migration') {
        // A migration entry must be found too, or it cannot be restored.
        const f = ctx.machine.mem.frames[pte.pfn];
        if (!f || kobject_freed(f) || inIncompleteStack(mm, address)) return;
        // A large folio's entry names one of its pages: index + i.
        if (!rmapFinds(f, mm, address, f.order ? pte.pfn - f.pfn : 0)) {
          report('rmap-completeness', `${mm.kname} (${mm.owner}) has a migration entry for ${f.kname} at ${address}, but rmap_walk from it (index ${f.index}) does not find it`);
        }
        return;
      }
      // The zero page is a special mapping: no rmap, no mapcount.
      if (pte.kind !== 'present' || is_zero_pfn(pte.pfn)) return;
      const folio = pfn_folio(pte.pfn);
      seen.set(folio, (seen.get(folio) ?? 0) + 1);
      if (folio.order) pagePtes.set(pte.pfn, (pagePtes.get(pte.pfn) ?? 0) + 1);
      if (inIncompleteStack(mm, address)) return;
      if (!rmapFinds(folio, mm, address, pte.pfn - folio.pfn, updating)) {
        report(
          'rmap-completeness',
          `${mm.kname} (${mm.owner}) maps ${folio.kname} at ${address}, but rmap_walk from it (index ${folio.index}, ${folio_test_anon(folio) ? (folio.mapping?.kname ?? 'no anon_vma') : folio.f_mapping ? `file ${folio.f_mapping.host.name}` : 'in no file'}) does not find that PTE`,
        );
      }
    });
  }
  for (const folio of liveFolios(ctx.machine)) {
    const n = seen.get(folio) ?? 0;
    if (folio._mapcount !== n) report('rmap-completeness', `${folio.kname} has mapcount ${folio._mapcount} but ${n} ${folio.order ? 'PTEs and PMDs' : 'PTEs'} map it`);
    if (!folio.order) continue;
    const e = pmds.get(folio) ?? 0;
    if (folio._entire_mapcount !== e) report('rmap-completeness', `THP ${folio.kname} has entire mapcount ${folio._entire_mapcount} but ${e} PMDs map it`);
    for (const page of folio.pages!) {
      const k = pagePtes.get(page.pfn) ?? 0;
      if (page._mapcount !== k) report('rmap-completeness', `page ${page.pfn} of THP ${folio.kname} has mapcount ${page._mapcount} but ${k} PTEs map it`);
    }
  }
}

export const rmapCompleteness: Property = {
  name: 'rmap-completeness',
  description: 'every PTE that maps a folio is found by rmap_walk from the folio; mapcount equals the PTEs that map it',
  afterOp(ctx) {
    if (!ptLocksHeld(ctx)) checkRmapCompleteness(ctx);
    checkHugetlbRmap(ctx);
  },
};
