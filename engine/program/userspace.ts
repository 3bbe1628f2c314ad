import type { Folio, MmStruct } from '../mm/mm_types.ts';

export interface RegionInfo {
  start: number;
  pages: number;
  /** Pages per page index of the ops naming the region: HPAGE_NR_PAGES for a hugetlb region. */
  unit?: number;
}

/** A page pinned for a device: held until unpinned or the process goes. */
export interface PinInfo {
  readonly id: number;
  readonly addr: number;
  readonly folio: Folio;
  readonly write: boolean;
  /** FOLL_LONGTERM. */
  readonly longterm: boolean;
  /** The process itself unmapped, moved or zapped the address since. */
  detached: boolean;
}

/** A plain reference (FOLL_GET) a pipe holds on a page: held until put or the process goes. */
export interface RefInfo {
  readonly id: number;
  readonly addr: number;
  readonly folio: Folio;
}

/**
 * User space's view of one address space: the mm, and where each region
 * handle points (what a program would keep in its own variables). Threads
 * of a process share one; fork copies it; exec starts a new one.
 */
export class UserSpace {
  readonly regions = new Map<number, RegionInfo>();
  readonly pins = new Map<number, PinInfo>();
  readonly refs = new Map<number, RefInfo>();
  /** Threads running in this address space. */
  threads = 0;
  /** Ranges munmap / mremap / DONTNEED took away, with the step each ended at (undefined: in flight). */
  private readonly detaching: { addr: number; pages: number; end: number | undefined }[] = [];

  constructor(
    readonly id: number,
    readonly mm: MmStruct,
    readonly pid: number,
  ) {}

  copyRegionsFrom(other: UserSpace): void {
    for (const [k, v] of other.regions) this.regions.set(k, { ...v });
  }

  /**
   * The process starts to unmap, move or zap [addr, addr+pages): its pins
   * there no longer name its mapping, nor does a pin whose GUP overlapped
   * this op. Returns the token for detachDone().
   */
  detachPins(addr: number, pages: number): object {
    for (const p of this.pins.values()) if (p.addr >= addr && p.addr < addr + pages) p.detached = true;
    const range = { addr, pages, end: undefined as number | undefined };
    this.detaching.push(range);
    return range;
  }

  detachDone(token: object, step: number): void {
    (token as { end: number | undefined }).end = step;
  }

  /** Did an op that takes [addr] away run at any time since `step`? */
  detachedSince(addr: number, step: number): boolean {
    return this.detaching.some((r) => addr >= r.addr && addr < r.addr + r.pages && (r.end === undefined || r.end > step));
  }
}
