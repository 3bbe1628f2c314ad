import type { Op } from './ops.ts';

/**
 * What one op did, as user space saw it: when it ran (first and last step),
 * the address space it ran in, the addresses it resolved its region to, and
 * its result. The data-integrity oracle replays these records.
 */
export interface OpRecord {
  readonly thread: string;
  readonly index: number;
  readonly op: Op;
  /** The caller's address space (a UserSpace id). */
  readonly as: number;
  readonly start: number;
  readonly end: number;
  /** The resolved range [addr, addr+pages), when the op names memory. */
  readonly addr?: number;
  readonly pages?: number;
  /** >= 0: success (an address, a value, 0); < 0: -errno. */
  readonly result: number;
  /** The value read or written. */
  readonly value?: number;
  /** fork: the child's address space; exec: the new one. */
  readonly newAs?: number;
  /** mremap: where the region now starts. */
  readonly newAddr?: number;
  /** mremap with fixedTo: the target it was given, unmapped first even if the mremap then fails. */
  readonly fixedAddr?: number;
  /** pin ops: the pin handle, and the pin's serial id (unique in the run). */
  readonly pin?: number;
  readonly pinId?: number;
}

export class History {
  readonly records: OpRecord[] = [];

  add(r: OpRecord): void {
    this.records.push(r);
  }
}
