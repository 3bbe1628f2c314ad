/**
 * Which ops of a model run reach past the end of a hugetlb region: a region
 * counts in huge pages, so an op on page 2 of a 2-huge-page region resolves
 * to the base pages right after the mapping. In the model those may belong
 * to the mapping placed next to it; on the kernel, whose hugetlb mappings
 * live in an arena of their own (live/c/exec.h), they are unmapped.
 */
import type { OpRecord } from '../engine/program/history.ts';

interface Mapped {
  readonly huge: boolean;
  readonly addr: number;
  readonly pages: number;
}

/** For each record, whether its range runs past the end of the hugetlb region it names. */
export function pastHugetlbEnd(records: readonly OpRecord[]): boolean[] {
  const spaces = new Map<number, Map<number, Mapped>>();
  const regionsOf = (as: number) => spaces.get(as) ?? spaces.set(as, new Map()).get(as)!;
  return records.map((r) => {
    const regions = regionsOf(r.as);
    const region = (r.op as { region?: number }).region;
    if ((r.kind === 'mmap' || r.kind === 'hugetlbMmap' || r.kind === 'memfdMmap') && r.result >= 0 && r.pages !== undefined) {
      regions.set(r.op.region, { huge: r.kind === 'hugetlbMmap', addr: r.result, pages: r.pages });
      return false;
    }
    if (r.kind === 'fork' && r.newAs !== undefined) spaces.set(r.newAs, new Map(regions));
    const m = region === undefined ? undefined : regions.get(region);
    if (!m?.huge || !('addr' in r) || r.addr === undefined) return false;
    const pages = 'pages' in r && typeof r.pages === 'number' ? r.pages : 1;
    return r.addr + pages > m.addr + m.pages;
  });
}
