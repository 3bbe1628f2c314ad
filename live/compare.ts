/**
 * Compares what one op did on the model and on the kernel. Where a mapping
 * lands is each side's business (the model has 256 pages, the kernel 47
 * bits), so ops that return an address (mmap, mremap) or a handle (swapon's
 * swap type) agree when both succeed; every other result, and every value
 * read, must be equal. The executor places mappings where the model did, so
 * the page an op resolved its region to (OpRecord.addr) must be equal too.
 */
import type { OpRecord } from '../engine/program/history.ts';
import type { Op } from '../engine/program/ops.ts';
import type { KernelRecord } from './kernel-run.ts';

export interface Observation {
  readonly result: number;
  readonly value?: number;
}

export interface Difference {
  readonly seq: number;
  readonly thread: string;
  readonly op: Op;
  readonly model: Observation;
  readonly kernel: Observation;
}

const ADDRESS_OR_HANDLE = new Set<Op['op']>(['mmap', 'hugetlbMmap', 'mremap', 'swapon']);

/** Values a user sees from this op: what a read or a device read returned. */
function seesValue(op: Op): boolean {
  return op.op === 'read' || op.op === 'pinRead';
}

function sameResult(op: Op, m: number, k: number): boolean {
  if (ADDRESS_OR_HANDLE.has(op.op) && m >= 0 && k >= 0) return true;
  return m === k;
}

/** The value a record carries (reads, writes, device accesses), if any. */
export function valueOf(r: OpRecord): number | undefined {
  return 'value' in r ? r.value : undefined;
}

export function compareRecords(model: readonly OpRecord[], kernel: readonly KernelRecord[]): Difference[] {
  const out: Difference[] = [];
  model.forEach((m, seq) => {
    const k = kernel[seq];
    const kobs: Observation = k ? { result: k.result, value: k.value } : { result: Number.NaN };
    const valueDiffers = seesValue(m.op) && m.result === 0 && k?.result === 0 && valueOf(m) !== k.value;
    // The page the op resolved its region to: both sides place mappings alike (live/c/ops.c).
    const addr = 'addr' in m ? m.addr : undefined;
    const addrDiffers = addr !== undefined && k?.page !== undefined && m.result >= 0 && k.result >= 0 && addr !== k.page;
    if (!k || !sameResult(m.op, m.result, k.result) || valueDiffers || addrDiffers) {
      out.push({ seq, thread: m.thread, op: m.op, model: { result: m.result, value: valueOf(m) }, kernel: kobs });
    }
  });
  return out;
}
