import { report } from '../engine/kernel/current.ts';
import { formatSite, kobject_freed } from '../engine/mm/kasan.ts';
import { hugetlbfs_files } from '../engine/fs/hugetlbfs.ts';
import { HPAGE_NR_PAGES, huge_pfn_frame, hugetlb_hstate_of, is_hugetlb_pt_page, type HugetlbFolio, type HugetlbPtPage } from '../engine/mm/hugetlb.ts';
import type { Machine } from '../engine/mm/machine.ts';
import type { Folio, MmStruct } from '../engine/mm/mm_types.ts';
import type { RunContext } from '../engine/program/executor.ts';

/*
 * The hugetlb side of rmap-completeness and refcounts. Huge pages come from
 * the hugetlb pool, not from page frames, and their PTEs live in page-table
 * pages that several mms may share, so the base-page walks (walk.ts) skip
 * them and these checks count per page-table page instead.
 */

/** Huge pages in use (allocated from the pool and not freed). */
export function liveHugetlbFolios(m: Machine): HugetlbFolio[] {
  return (hugetlb_hstate_of(m)?.frames ?? []).filter((f): f is HugetlbFolio => f !== undefined && !kobject_freed(f));
}

/**
 * Is some task where hugetlb state changes in several stores: inside a PT
 * lock (entry and mapcount), page_table_lock or i_mmap_rwsem (a share taken
 * before it is installed; a VMA out of i_mmap while a split changes it)?
 */
function hugetlbInFlight(ctx: RunContext): boolean {
  for (const t of ctx.execution.tasks) {
    for (const h of t.held) {
      const c = h.lock.lockClass.name;
      if (c === 'ptlock' || c === 'mm->page_table_lock' || c === 'hugetlbfs_i_mmap_rwsem_key') return true;
    }
  }
  return false;
}

interface Sharer {
  readonly mm: MmStruct;
  readonly slot: number;
}

/** Every hugetlb page-table page reachable from an mm's PMD level, with the slots that point at it. */
function hugetlbPtPages(m: Machine): Map<HugetlbPtPage, Sharer[]> {
  const pages = new Map<HugetlbPtPage, Sharer[]>();
  for (const mm of m.mms) {
    mm.pgd.forEach((table, slot) => {
      if (!table || !is_hugetlb_pt_page(table)) return;
      if (kobject_freed(table)) {
        report('memory-safety', `${mm.kname} (${mm.owner}) PMD slot ${slot} points at ${table.kname}, a hugetlb page table freed at ${formatSite(table.kasan.freed!)}`);
      }
      let s = pages.get(table);
      if (!s) pages.set(table, (s = []));
      s.push({ mm, slot });
    });
  }
  return pages;
}

/** Does any mm's PMD level point at a hugetlb page-table page (freed or not)? */
function anyHugetlbPtPage(m: Machine): boolean {
  for (const mm of m.mms) {
    const pgd = mm.pgd;
    for (let i = 0; i < pgd.length; i++) {
      const table = pgd[i];
      if (table && is_hugetlb_pt_page(table)) return true;
    }
  }
  return false;
}

/** Would rmap_walk_file() from the folio find this slot: a VMA of mm in the file's i_mmap mapping the folio there? */
function fileRmapFinds(folio: HugetlbFolio, mm: MmStruct, slot: number): boolean {
  const mapping = folio.f_mapping;
  if (!mapping) return false;
  const address = slot * HPAGE_NR_PAGES;
  for (const vma of mapping.i_mmap) {
    if (vma.vm_mm !== mm || address < vma.vm_start || address >= vma.vm_end) continue;
    if ((address - vma.vm_start + vma.vm_pgoff) / HPAGE_NR_PAGES === folio.index) return true;
  }
  return false;
}

/**
 * Every huge PTE is found by a file rmap walk from its folio (the folio is
 * still in its file, and a VMA in i_mmap maps it at that slot in that mm);
 * a huge folio's mapcount is the number of page-table pages that map it (a
 * shared page maps it once for all its sharers); a page-table page's share
 * count is the number of slots that point at it.
 */
export function checkHugetlbRmap(ctx: RunContext): void {
  if (hugetlbInFlight(ctx)) return;
  // Most runs map no hugetlb page table at all: then every huge page in use must be unmapped, and nothing else is built.
  if (!anyHugetlbPtPage(ctx.machine)) {
    const frames = hugetlb_hstate_of(ctx.machine)?.frames;
    if (frames) for (const folio of frames) if (folio !== undefined && !kobject_freed(folio) && folio._mapcount !== 0) report('rmap-completeness', `huge ${folio.kname} has mapcount ${folio._mapcount} but 0 page tables map it`);
    return;
  }
  const seen = new Map<HugetlbFolio, number>();
  for (const [table, sharers] of hugetlbPtPages(ctx.machine)) {
    if (table.pt_share_count !== sharers.length) {
      report('rmap-completeness', `hugetlb ${table.kname} has pt_share_count ${table.pt_share_count} but ${sharers.length} PMD slots point at it (${sharers.map((s) => `${s.mm.kname}:${s.slot}`).join(', ')})`);
    }
    const pte = table.ptes[0]!;
    if (pte.kind !== 'present') continue;
    const folio = hugetlb_hstate_of(ctx.machine)?.frames[huge_pfn_frame(pte.pfn)];
    if (!folio || kobject_freed(folio)) {
      report('memory-safety', `hugetlb ${table.kname} (mapped by ${sharers.map((s) => `${s.mm.kname}:${s.slot}`).join(', ')}) maps huge pfn ${pte.pfn}, which is free`);
      continue;
    }
    seen.set(folio, (seen.get(folio) ?? 0) + 1);
    for (const s of sharers) {
      if (!fileRmapFinds(folio, s.mm, s.slot)) {
        report(
          'rmap-completeness',
          `${s.mm.kname} (${s.mm.owner}) maps huge ${folio.kname} at ${s.slot * HPAGE_NR_PAGES} through ${table.kname}, but rmap from it (${folio.f_mapping ? `index ${folio.index} of ${folio.f_mapping.host.name}` : 'no longer in any file'}) does not find that mapping`,
        );
      }
    }
  }
  for (const folio of liveHugetlbFolios(ctx.machine)) {
    const n = seen.get(folio) ?? 0;
    if (folio._mapcount !== n) report('rmap-completeness', `huge ${folio.kname} has mapcount ${folio._mapcount} but ${n} page tables map it`);
  }
}

/** refcount >= mapcount + the page cache's reference, for every huge page in use. */
export function checkHugetlbRefcounts(ctx: RunContext): void {
  for (const f of liveHugetlbFolios(ctx.machine)) {
    const need = f._mapcount + (f.f_mapping ? 1 : 0);
    if (f._refcount < need) report('refcounts', `huge ${f.kname} has refcount ${f._refcount} < mapcount ${f._mapcount} + page cache ${f.f_mapping ? 1 : 0}`);
  }
}

/**
 * What may stay allocated once every process has exited: the huge pages
 * still in their files (hugetlbfs keeps them until truncated); nothing else
 * of hugetlb (no vma_lock, no page-table page).
 */
export function hugetlbLiveAtEnd(ctx: RunContext, kind: string): number {
  if (kind !== 'hugetlb_folio') return 0;
  let n = 0;
  for (const file of hugetlbfs_files(ctx.machine)) for (const f of file.f_mapping.i_pages) if (f) n++;
  return n;
}

/** At the end: no VMA left in any file's i_mmap; page-cache pages unmapped and referenced by the cache alone. */
export function checkHugetlbAtEnd(ctx: RunContext): void {
  for (const file of hugetlbfs_files(ctx.machine)) {
    const mapping = file.f_mapping;
    if (mapping.i_mmap.length > 0) report('refcounts', `leak after all processes exited: ${mapping.i_mmap.join(', ')} still in ${file}'s i_mmap`);
    for (const f of mapping.i_pages as readonly (Folio | undefined)[]) {
      if (f && (f._refcount !== 1 || f._mapcount !== 0)) {
        report('refcounts', `leak after all processes exited: ${f.kname} at index ${f.index} of ${file} has refcount ${f._refcount}, mapcount ${f._mapcount}`);
      }
    }
  }
}
