/**
 * Which ops of a model run name a region backed by a file: a memfd mapping
 * (memfdMmap) or shared anonymous memory (mmap MAP_SHARED, shmem_zero_setup),
 * as the region handle stands when the op runs (fork copies the handles).
 */
import type { OpRecord } from '../engine/program/history.ts';

export function namesFileRegion(records: readonly OpRecord[]): boolean[] {
  const spaces = new Map<number, Map<number, boolean>>();
  const regionsOf = (as: number) => spaces.get(as) ?? spaces.set(as, new Map()).get(as)!;
  return records.map((r) => {
    const regions = regionsOf(r.as);
    const region = (r.op as { region?: number }).region;
    if (r.kind === 'fork' && r.newAs !== undefined) spaces.set(r.newAs, new Map(regions));
    const named = region !== undefined && regions.get(region) === true;
    if ((r.kind === 'mmap' || r.kind === 'hugetlbMmap' || r.kind === 'memfdMmap') && r.result >= 0) {
      regions.set(r.op.region, r.kind === 'memfdMmap' || (r.kind === 'mmap' && r.op.shared === true));
    }
    return named;
  });
}
