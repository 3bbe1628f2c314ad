import type { MmStruct } from '../mm/mm_types.ts';

export interface RegionInfo {
  start: number;
  pages: number;
}

/**
 * User space's view of one address space: the mm, and where each region
 * handle points (what a program would keep in its own variables). Threads
 * of a process share one; fork copies it; exec starts a new one.
 */
export class UserSpace {
  readonly regions = new Map<number, RegionInfo>();

  constructor(
    readonly id: number,
    readonly mm: MmStruct,
    readonly pid: number,
  ) {}

  copyRegionsFrom(other: UserSpace): void {
    for (const [k, v] of other.regions) this.regions.set(k, { ...v });
  }
}
