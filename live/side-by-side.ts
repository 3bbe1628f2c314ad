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
import type { ThpMode } from './encode.ts';

function show(result: number, value: number | undefined): string {
  return value === undefined ? `${result}` : `${result} (value ${value})`;
}

/** THP mode: a run's page states, pages 0..255 as 4 groups of 64. */
function states(label: string, s: string | undefined): string[] {
  if (s === undefined) return [];
  return [0, 64, 128, 192].filter((at) => /[^.]/.test(s.slice(at, at + 64))).map((at) => `        ${label} pages ${String(at).padStart(3)}+ ${s.slice(at, at + 64)}`);
}

export function sideBySide(p: Program, seed: number, thp?: ThpMode): string[] {
  const s = runSequential(p, seed, thp !== undefined);
  const k: KernelRecord[] = runOnKernel(p, s.order, thp);
  const all = compareRecords(s.records, k, s.states);
  const why = explain(all);
  const diffs = new Map<number, string>();
  all.forEach((d, i) => diffs.set(d.seq, diffs.get(d.seq) || (why[i] ? why[i]!.name : '')));
  const rows = s.records.flatMap((m, i) => {
    const d = diffs.get(i);
    const mark = d === undefined ? '' : d ? `  ~ ${d}` : '  <== differs';
    const kr = k[i];
    const row = `  ${String(i).padStart(3)} ${m.thread.padEnd(6)} ${formatOp(m.op).padEnd(34)} model ${show(m.result, valueOf(m)).padEnd(18)} kernel ${kr ? show(kr.result, kr.value) : '(none)'}${mark}`;
    const pageRows = all.some((x) => x.seq === i && x.model.state !== undefined) ? [...states('model ', s.states?.[i]), ...states('kernel', kr?.states)] : [];
    return [row, ...pageRows];
  });
  return [`  seq thread op${' '.repeat(33)}results${s.sequential ? '' : '  (this run was not one op at a time)'}`, ...rows];
}
