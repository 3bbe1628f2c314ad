/**
 * Runs an encoded sequential program on the live kernel through the C
 * executor and reads back one record per op, in the same global order.
 */
import { spawnSync } from 'node:child_process';
import type { Program } from '../engine/program/ops.ts';
import { executorBinary } from './build.ts';
import { encode, type Placed, type ThpMode } from './encode.ts';
import { ExecutorError } from './errors.ts';
import { HUGETLB_POOL_PAGES } from '../engine/mm/hugetlb.ts';

/** What the kernel said an op did. `page`: the address it used, in 4 KiB pages. */
export interface KernelRecord {
  readonly seq: number;
  readonly result: number;
  readonly value?: number;
  readonly page?: number;
  /** THP mode: the process's page states after the op, and the machine's THP fault fallbacks and khugepaged collapses during it. */
  readonly states?: string;
  readonly fallbacks?: number;
  readonly collapsed?: number;
}

/** The executor's own limit on one program, in seconds; every op answers within 10 s or the run stops. */
export const KERNEL_RUN_SECONDS = 30;

function parse(line: string): KernelRecord {
  const [, seq, result, value, page] = line.split(' ');
  return { seq: Number(seq), result: Number(result), value: value === '-' ? undefined : Number(value), page: page === '-' ? undefined : Number(page) };
}

/** Run the ops of `order` on the kernel, with the model's hugetlb pool as nr_hugepages (and in THP mode `thp`). */
export function runOnKernel(program: Program, order: readonly Placed[], thp?: ThpMode): KernelRecord[] {
  const input = encode(program, order, { hugepages: HUGETLB_POOL_PAGES, timeoutSeconds: KERNEL_RUN_SECONDS, ...(thp ? { thp } : {}) });
  const r = spawnSync(executorBinary(), [], { input, encoding: 'utf8', timeout: (KERNEL_RUN_SECONDS + 5) * 1000, killSignal: 'SIGTERM' });
  if (r.error) throw new ExecutorError(r.error.message);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  const bad = lines.find((l) => l.startsWith('error'));
  if (bad || r.status !== 0 || lines[lines.length - 1] !== 'done') throw new ExecutorError(bad ?? `exit status ${r.status}`);
  const records = lines.filter((l) => l.startsWith('R ')).map(parse);
  const bySeq = new Map(records.map((r, i) => [r.seq, i]));
  for (const l of lines.filter((x) => x.startsWith('O '))) {
    const [, seq, states, fallbacks, collapsed] = l.split(' ');
    const i = bySeq.get(Number(seq));
    if (i !== undefined) records[i] = { ...records[i]!, states, fallbacks: Number(fallbacks), collapsed: Number(collapsed) };
  }
  return records;
}
