/**
 * A sequential run, model and kernel side by side: one line per op in the
 * global order, what each side returned, the differing ones marked.
 */
import { formatOp } from '../engine/program/format.ts';
import type { Program } from '../engine/program/ops.ts';
import { explain } from './abstractions.ts';
import { compareRecords, valueOf } from './compare.ts';
import { runOnKernel, type KernelRecord } from './kernel-run.ts';
import { runSequential } from './sequential.ts';

function show(result: number, value: number | undefined): string {
  return value === undefined ? `${result}` : `${result} (value ${value})`;
}

export function sideBySide(p: Program, seed: number): string[] {
  const s = runSequential(p, seed);
  const k: KernelRecord[] = runOnKernel(p, s.order);
  const all = compareRecords(s.records, k);
  const why = explain(all);
  const diffs = new Map(all.map((d, i) => [d.seq, why[i]?.name ?? '']));
  const rows = s.records.map((m, i) => {
    const d = diffs.get(i);
    const mark = d === undefined ? '' : d ? `  ~ ${d}` : '  <== differs';
    const kr = k[i];
    return `  ${String(i).padStart(3)} ${m.thread.padEnd(6)} ${formatOp(m.op).padEnd(34)} model ${show(m.result, valueOf(m)).padEnd(18)} kernel ${kr ? show(kr.result, kr.value) : '(none)'}${mark}`;
  });
  return [`  seq thread op${' '.repeat(33)}results${s.sequential ? '' : '  (this run was not one op at a time)'}`, ...rows];
}
