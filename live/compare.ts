/**
 * Compares what one op did on the model and on the kernel. The executor
 * places each mapping where the model put it (live/c/ops.c) and reports
 * addresses as model pages, so every result must be equal (the address an
 * mmap or mremap returned too), and so must every value read and the page
 * each op resolved its region to (OpRecord.addr); only swapon's handle (the
 * model's swap type, 0 on the kernel) agrees whenever both succeed.
 * In THP mode the page states after each op (live/thp-observe.ts,
 * live/c/thp.c) are compared too: the run's first op after which they
 * differ is a difference of its own (later states follow from it).
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
  /** THP mode: the state letter of the first page whose state differs after the op. */
  readonly state?: string;
  /** Kernel, THP mode: THP fault fallbacks and khugepaged collapses on the machine during the op. */
  readonly fallbacks?: number;
  readonly collapsed?: number;
  /** The op names a memfd or shared anonymous region (live/file-regions.ts). */
  readonly fileRegion?: boolean;
}

export interface Difference {
  readonly seq: number;
  readonly thread: string;
  readonly op: Op;
  readonly model: Observation;
  readonly kernel: Observation;
  /** A page-state difference: the first page that differs, and every differing page. */
  readonly page?: number;
  readonly pages?: readonly PageDifference[];
  /** A page-state difference: the page the op resolved its region to (OpRecord.addr), if it has one. */
  readonly at?: number;
}

export interface PageDifference {
  readonly page: number;
  readonly model: string;
  readonly kernel: string;
}

/** `192 H/t, 193 H/t`: pages as the report shows them. */
export function formatPages(pages: readonly PageDifference[]): string {
  return pages.map((d) => `${d.page} ${d.model}/${d.kernel}`).join(', ');
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

/** The first page-state difference of a run, if any. */
function stateDifference(model: readonly OpRecord[], kernel: readonly KernelRecord[], states: readonly (string | undefined)[]): Difference | undefined {
  for (const [seq, m] of model.entries()) {
    const ms = states[seq];
    const k = kernel[seq];
    if (ms === undefined || k?.states === undefined || ms === k.states) continue;
    const pages = [...ms].flatMap((c, page) => (c !== k.states![page] ? [{ page, model: c, kernel: k.states![page]! }] : []));
    const page = pages[0]!.page;
    const at = 'addr' in m ? m.addr : undefined;
    const kernelObs: Observation = { result: k.result, state: k.states[page], fallbacks: k.fallbacks, collapsed: k.collapsed };
    return { seq, thread: m.thread, op: m.op, model: { result: m.result, state: ms[page] }, kernel: kernelObs, page, pages, ...(at === undefined ? {} : { at }) };
  }
  return undefined;
}

export function compareRecords(model: readonly OpRecord[], kernel: readonly KernelRecord[], states?: readonly (string | undefined)[]): Difference[] {
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
  const st = states && stateDifference(model, kernel, states);
  if (st) out.splice(out.filter((d) => d.seq <= st.seq).length, 0, st);
  return out;
}
