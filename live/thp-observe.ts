/**
 * THP mode's observation on the model: after an op, the state of every page
 * of the address space of the process that ran it, one letter a page, as the
 * kernel executor reports its own (live/c/thp.c, from pagemap, kpageflags and
 * PAGEMAP_SCAN): '.' nothing mapped or not faulted in, 's' swapped out, 'p' a
 * small page, 't' a page of a large folio mapped by a PTE (a split PMD), 'z'
 * the shared zero page, 'H' a PMD-mapped THP, 'Z' the huge zero page mapped by
 * a PMD (use_zero_page=1), 'm' a migration entry (none should be left at an
 * op boundary).
 */
import { TASK_SIZE, ZERO_PFN, is_huge_zero_pmd, pmd_table, pmd_trans_huge, type MmStruct } from '../engine/mm/mm_types.ts';
import type { Machine } from '../engine/mm/machine.ts';
import { pmd_index, pte_index } from '../engine/mm/pgtable.ts';
import type { RunContext } from '../engine/program/run-context.ts';
import type { OpRecord } from '../engine/program/history.ts';

function pageState(machine: Machine, mm: MmStruct, addr: number): string {
  const pmd = mm.pgd[pmd_index(addr)];
  if (pmd_trans_huge(pmd)) return is_huge_zero_pmd(pmd) ? 'Z' : 'H';
  const pte = pmd_table(pmd)?.ptes[pte_index(addr)];
  if (!pte || pte.kind === 'none') return '.';
  if (pte.kind === 'swap') return 's';
  if (pte.kind === 'migration') return 'm';
  if (pte.pfn === ZERO_PFN) return 'z';
  return (machine.mem.frames[pte.pfn]?.order ?? 0) > 0 ? 't' : 'p';
}

/** The page states of the address space `rec` ran in, or undefined for ops that leave none to look at. */
export function modelStates(ctx: RunContext, rec: OpRecord): string | undefined {
  if (rec.kind === 'exit' || !/^P\d+\.T\d+$/.test(rec.thread)) return undefined;
  const mm = ctx.spaces[rec.as]?.mm;
  if (!mm) return undefined;
  let s = '';
  for (let a = 0; a < TASK_SIZE; a++) s += pageState(ctx.machine, mm, a);
  return s;
}
