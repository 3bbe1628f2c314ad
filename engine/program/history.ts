import type { Op, OpKind } from './ops.ts';

/*
 * What one op did, as user space saw it: when it ran (first and last step),
 * the address space it ran in, the addresses it resolved its region to, and
 * its result. The properties' oracle replays these records and nothing else:
 * `rec.kind === 'mremap'` narrows to the fields an mremap has.
 *
 * An op whose region does not exist (or that a kernel thread cannot run)
 * fails with -EINVAL before it resolves anything: its range is absent.
 */

interface Base<K extends OpKind> {
  readonly kind: K;
  readonly thread: string;
  readonly index: number;
  readonly op: Extract<Op, { op: K }>;
  /** The caller's address space (a UserSpace id; -1 for a kernel thread). */
  readonly as: number;
  readonly start: number;
  readonly end: number;
  /** >= 0: success (an address, a value, 0); < 0: -errno. */
  readonly result: number;
}

/** The range [addr, addr+pages) the op resolved its region to, in base pages. */
export interface Range {
  readonly addr: number;
  readonly pages: number;
}
interface NoRange {
  readonly addr?: undefined;
  readonly pages?: undefined;
}
type Ranged = Range | NoRange;

/** mmap: the address on success; the length asked for (absent in a kernel thread). */
export type MmapRecord = Base<'mmap'> & { readonly addr?: number; readonly pages?: number };
export type HugetlbMmapRecord = Base<'hugetlbMmap'> & { readonly addr?: number; readonly pages?: number };
export type MemfdMmapRecord = Base<'memfdMmap'> & { readonly addr?: number; readonly pages?: number };
export type MunmapRecord = Base<'munmap'> & Ranged;
export type MprotectRecord = Base<'mprotect'> & Ranged;
export type MadviseRecord = Base<'madvise'> & Ranged;
/** mremap: the old range; where the region now starts; the MREMAP_FIXED target, unmapped first even if the mremap then fails. */
export type MremapRecord = Base<'mremap'> & Ranged & { readonly newAddr?: number; readonly fixedAddr?: number };
/** The pages [addr, addr+pages) an access's fault mapped by growing a stack down to them (perf's mmap event), and when. */
export type Growth = Range & { readonly step: number };
interface Grown {
  readonly grown?: Growth;
}
/** read: the value, on success. */
export type ReadRecord = Base<'read'> & Ranged & { readonly value?: number } & Grown;
/** write: the value it stored, once it resolved its page. */
export type WriteRecord = Base<'write'> & ((Range & { readonly value: number }) | (NoRange & { readonly value?: undefined })) & Grown;
/** fork: the child's address space. */
export type ForkRecord = Base<'fork'> & { readonly newAs?: number };
/** exec: the argument values user space passed; on success the new stack and address space. */
export type ExecRecord = Base<'exec'> & { readonly argv: readonly number[] } & ((Range & { readonly newAs: number }) | (NoRange & { readonly newAs?: undefined }));
/** pin: the handle; the page, once resolved; the pin's serial id (unique in the run), on success. */
/** `zeroPage`: the pin holds the shared zero page or the huge zero folio (a short-term R/O pin may; it sees no later write). */
export type PinRecord = Base<'pin'> & { readonly pin: number } & Ranged & { readonly pinId?: number; readonly zeroPage?: boolean };
/** A device access or unpin through handle `pin`: the pinned page and the pin's id, if the handle held a pin. */
type ThroughPin = { readonly pin?: number } & ((Range & { readonly pinId: number }) | (NoRange & { readonly pinId?: undefined }));
export type PinReadRecord = Base<'pinRead'> & ThroughPin & { readonly value?: number };
export type PinWriteRecord = Base<'pinWrite'> & ThroughPin & { readonly value?: number };
export type UnpinRecord = Base<'unpin'> & ThroughPin;
/** get: the handle; the page, once resolved; the reference's serial id (unique in the run), on success. */
export type GetRecord = Base<'get'> & { readonly ref: number } & Ranged & { readonly refId?: number };
/** A device read or put through handle `ref`: the referenced page's address and the reference's id, if the handle held one. */
type ThroughRef = { readonly ref?: number } & ((Range & { readonly refId: number }) | (NoRange & { readonly refId?: undefined }));
export type GetReadRecord = Base<'getRead'> & ThroughRef & { readonly value?: number };
export type PutRecord = Base<'put'> & ThroughRef;
export type ExitRecord = Base<'exit'>;
export type SwaponRecord = Base<'swapon'>;
export type SwapoffRecord = Base<'swapoff'>;
export type ReclaimRecord = Base<'reclaim'>;
export type MigrateRecord = Base<'migrate'>;
export type HugetlbCreateRecord = Base<'hugetlbCreate'>;
export type HugetlbPunchRecord = Base<'hugetlbPunch'>;
export type HugetlbTruncateRecord = Base<'hugetlbTruncate'>;
export type MemfdCreateRecord = Base<'memfdCreate'>;
export type MemfdTruncateRecord = Base<'memfdTruncate'>;
export type MemfdPunchRecord = Base<'memfdPunch'>;

export type OpRecord =
  | MmapRecord
  | HugetlbMmapRecord
  | MunmapRecord
  | MprotectRecord
  | MadviseRecord
  | MremapRecord
  | ReadRecord
  | WriteRecord
  | ForkRecord
  | ExecRecord
  | PinRecord
  | PinReadRecord
  | PinWriteRecord
  | UnpinRecord
  | GetRecord
  | GetReadRecord
  | PutRecord
  | ExitRecord
  | SwaponRecord
  | SwapoffRecord
  | ReclaimRecord
  | MigrateRecord
  | HugetlbCreateRecord
  | HugetlbPunchRecord
  | HugetlbTruncateRecord
  | MemfdCreateRecord
  | MemfdMmapRecord
  | MemfdTruncateRecord
  | MemfdPunchRecord;

/** The record of an op of kind K. */
export type RecordOf<K extends OpKind> = Extract<OpRecord, { kind: K }>;

type Without<T, F extends PropertyKey> = T extends unknown ? Omit<T, F> : never;

/** A record's own fields: what its kind adds to the fields every record has. */
export type Fields<K extends OpKind> = K extends OpKind ? Without<RecordOf<K>, keyof Base<K>> : never;

/** What an op handler returns: its record without the fields the executor fills in. */
export type Outcome<K extends OpKind = OpKind> = K extends OpKind ? Fields<K> & { readonly result: number } : never;

export class History {
  readonly records: OpRecord[] = [];

  add(r: OpRecord): void {
    this.records.push(r);
  }
}

/** The value an op read or wrote (a read, a write, a device access), if it got that far. */
export function valueOf(r: OpRecord): number | undefined {
  return 'value' in r ? r.value : undefined;
}
