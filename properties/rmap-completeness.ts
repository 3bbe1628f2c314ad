import { report } from '../engine/kernel/current.ts';
import { kobject_freed } from '../engine/mm/kasan.ts';
import { VM_STACK_INCOMPLETE_SETUP, type Folio, type MmStruct } from '../engine/mm/mm_types.ts';
import type { RunContext } from '../engine/program/executor.ts';
import type { Property } from './property.ts';
import { forEachPte, liveFolios, pfn_folio, ptLocksHeld } from './walk.ts';
import { checkHugetlbRmap } from './hugetlb.ts';
import { fileRmapFinds } from './shmem.ts';
import { folio_test_anon } from '../engine/mm/rmap.ts';

/** Would rmap_walk from the folio visit (mm, address)? The same computation as vma_address(). */
function rmapFinds(folio: Folio, mm: MmStruct, address: number): boolean {
  if (!folio_test_anon(folio)) return fileRmapFinds(folio, mm, address);
  const anon_vma = folio.mapping;
  if (!anon_vma) return false;
  for (const avc of anon_vma.rb_root) {
    const vma = avc.vma;
    if (vma.vm_mm !== mm) continue;
    if (vma.vm_start + (folio.index - vma.vm_pgoff) === address && address >= vma.vm_start && address < vma.vm_end) return true;
  }
  return false;
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
  const seen = new Map<Folio, number>();
  for (const mm of ctx.machine.mms) {
    forEachPte(mm, (address, pte) => {
      if (pte.kind === 'migration') {
        // A migration entry must be found too, or it cannot be restored.
        const f = ctx.machine.mem.frames[pte.pfn];
        if (!f || kobject_freed(f) || inIncompleteStack(mm, address)) return;
        if (!rmapFinds(f, mm, address)) {
          report('rmap-completeness', `${mm.kname} (${mm.owner}) has a migration entry for ${f.kname} at ${address}, but rmap_walk from it (index ${f.index}) does not find it`);
        }
        return;
      }
      if (pte.kind !== 'present') return;
      const folio = pfn_folio(pte.pfn);
      seen.set(folio, (seen.get(folio) ?? 0) + 1);
      if (inIncompleteStack(mm, address)) return;
      if (!rmapFinds(folio, mm, address)) {
        report(
          'rmap-completeness',
          `${mm.kname} (${mm.owner}) maps ${folio.kname} at ${address}, but rmap_walk from it (index ${folio.index}, ${folio_test_anon(folio) ? (folio.mapping?.kname ?? 'no anon_vma') : folio.f_mapping ? `file ${folio.f_mapping.host.name}` : 'in no file'}) does not find that PTE`,
        );
      }
    });
  }
  for (const folio of liveFolios(ctx.machine)) {
    const n = seen.get(folio) ?? 0;
    if (folio._mapcount !== n) report('rmap-completeness', `${folio.kname} has mapcount ${folio._mapcount} but ${n} PTEs map it`);
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
