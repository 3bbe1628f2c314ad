/**
 * Which ops of a model run reach model pages where the two layouts differ.
 * The model has one address space; the kernel keeps hugetlb mappings in an
 * arena of their own (live/c/exec.h). So the model pages right after a
 * hugetlb mapping (a region counts in huge pages: page 2 of a 2-huge-page
 * region is past its end) may be the mapping placed next to it in the model
 * and unmapped on the kernel; and the model pages of a hugetlb mapping are
 * unmapped base pages on the kernel. An op reaches them if
 *   - it names a hugetlb region and its range runs past the region's end;
 *   - it names another region and its range overlaps a hugetlb mapping's pages;
 *   - it names a region that such an op changed before (a munmap past a
 *     hugetlb region's end that unmapped the model's memfd mapping there).
 */
import type { OpRecord } from '../engine/program/history.ts';

interface Mapped {
  readonly huge: boolean;
  readonly addr: number;
  readonly pages: number;
  /** An earlier op that reached past a hugetlb mapping touched this region's pages in the model. */
  readonly touched?: boolean;
}

/** A space's regions by handle, and its hugetlb mappings (kept when their handle is reused, until unmapped whole). */
interface Space {
  readonly regions: Map<number, Mapped>;
  huge: Mapped[];
}

const overlaps = (a: number, n: number, m: Mapped) => a < m.addr + m.pages && m.addr < a + n;

/** Did the op on region `region`, range [addr, addr+pages), reach where the layouts differ? Marks what it touched. */
function reach(s: Space, region: number, addr: number, pages: number): boolean {
  const m = s.regions.get(region)!;
  if (m.touched) return true;
  const past = m.huge && addr + pages > m.addr + m.pages;
  const intoHuge = !m.huge && s.huge.some((o) => overlaps(addr, pages, o));
  if (past) for (const [h, o] of s.regions) if (h !== region && !o.huge && overlaps(addr, pages, o)) s.regions.set(h, { ...o, touched: true });
  return past || intoHuge;
}

/** For each record, whether it reached model pages where the model's layout and the kernel's differ. */
export function pastHugetlbEnd(records: readonly OpRecord[]): boolean[] {
  const spaces = new Map<number, Space>();
  const spaceOf = (as: number) => spaces.get(as) ?? spaces.set(as, { regions: new Map(), huge: [] }).get(as)!;
  return records.map((r) => {
    const s = spaceOf(r.as);
    const region = (r.op as { region?: number }).region;
    if ((r.kind === 'mmap' || r.kind === 'hugetlbMmap' || r.kind === 'memfdMmap') && r.result >= 0 && r.pages !== undefined) {
      const m = { huge: r.kind === 'hugetlbMmap', addr: r.result, pages: r.pages };
      s.regions.set(r.op.region, m);
      if (m.huge) s.huge.push(m);
      return false;
    }
    if (r.kind === 'fork' && r.newAs !== undefined) spaces.set(r.newAs, { regions: new Map(s.regions), huge: [...s.huge] });
    const m = region === undefined ? undefined : s.regions.get(region);
    if (!m || !('addr' in r) || r.addr === undefined) return false;
    const pages = 'pages' in r && typeof r.pages === 'number' ? r.pages : 1;
    const reached = reach(s, region!, r.addr, pages);
    if (r.kind === 'munmap' && r.result === 0) s.huge = s.huge.filter((o) => !(r.addr <= o.addr && o.addr + o.pages <= r.addr + pages));
    if (r.kind === 'mremap' && r.newAddr !== undefined && r.result >= 0) s.regions.set(region!, { ...m, addr: r.newAddr, pages: r.op.pages });
    return reached;
  });
}
