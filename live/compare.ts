/**
 * Compares what one op did on the model and on the kernel. The executor
 * places each mapping where the model put it (live/c/ops.c) and reports
 * addresses as model pages, so every result must be equal (the address an
 * mmap or mremap returned too), and so must every value read and the page
 * each op resolved its region to (OpRecord.addr); only swapon's handle (the
 * model's swap type, 0 on the kernel) agrees whenever both succeed.
 */
import type { OpRecord } from '../engine/program/history.ts';
import type { Op } from '../engine/program/ops.ts';
import type { KernelRecord } from './kernel-run.ts';
import { pastHugetlbEnd } from './hugetlb-reach.ts';
import { namesFileRegion } from './file-regions.ts';

export interface Observation {
  readonly result: number;
  readonly value?: number;
  /** The model's access grew a stack (its fault went through expand_downwards). */
  readonly grew?: boolean;
  /** The model's op reached past the end of the hugetlb region it names (live/hugetlb-reach.ts). */
  readonly pastHugetlb?: boolean;
  /** The op names a memfd or shared anonymous region (live/file-regions.ts). */
  readonly fileRegion?: boolean;
}

export interface Difference {
  readonly seq: number;
  readonly thread: string;
  readonly op: Op;
  readonly model: Observation;
  readonly kernel: Observation;
}

/** swapon returns the swap type in the model and 0 on the kernel. */
const HANDLE = new Set<Op['op']>(['swapon']);

/** Values a user sees from this op: what a read or a device read returned. */
function seesValue(op: Op): boolean {
  return op.op === 'read' || op.op === 'pinRead' || op.op === 'getRead';
}

function sameResult(op: Op, m: number, k: number): boolean {
  if (HANDLE.has(op.op) && m >= 0 && k >= 0) return true;
  return m === k;
}

/** The value a record carries (reads, writes, device accesses), if any. */
export function valueOf(r: OpRecord): number | undefined {
  return 'value' in r ? r.value : undefined;
}

export function compareRecords(model: readonly OpRecord[], kernel: readonly KernelRecord[]): Difference[] {
  const out: Difference[] = [];
  const past = pastHugetlbEnd(model);
  const file = namesFileRegion(model);
  model.forEach((m, seq) => {
    const k = kernel[seq];
    const kobs: Observation = k ? { result: k.result, value: k.value } : { result: Number.NaN };
    const valueDiffers = seesValue(m.op) && m.result === 0 && k?.result === 0 && valueOf(m) !== k.value;
    // The page the op resolved its region to: both sides place mappings alike (live/c/ops.c).
    const addr = 'addr' in m ? m.addr : undefined;
    const addrDiffers = addr !== undefined && k?.page !== undefined && m.result >= 0 && k.result >= 0 && addr !== k.page;
    if (!k || !sameResult(m.op, m.result, k.result) || valueDiffers || addrDiffers) {
      const grew = (m.kind === 'read' || m.kind === 'write') && m.grown !== undefined;
      out.push({ seq, thread: m.thread, op: m.op, model: { result: m.result, value: valueOf(m), ...(grew ? { grew } : {}), ...(past[seq] ? { pastHugetlb: true } : {}), ...(file[seq] ? { fileRegion: true } : {}) }, kernel: kobs });
    }
  });
  return out;
}
