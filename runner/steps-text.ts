import type { Trace, TraceEntry } from '../engine/index.ts';
import { formatOp } from '../engine/program/format.ts';
import type { OpRecord } from '../engine/program/history.ts';
import type { Program } from '../engine/program/ops.ts';

/** The report's width: a terminal, a mail, a CI log. */
export const REPORT_COLUMNS = 120;

/** Every step a message names (`step 104`, `steps 174-175`, `steps 174–175`): where the broken state arose. */
export function namedSteps(message: string): Set<number> {
  const out = new Set<number>();
  for (const m of message.matchAll(/\bsteps? (\d+)(?:\s*[-–]\s*(\d+))?/g)) {
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let s = a; s <= Math.min(b, a + 50); s++) out.add(s);
  }
  return out;
}

/** The op a thread's step belongs to: op k of thread X runs from the step after op k-1's end to op k's end. */
export function opsByStep(trace: Trace, program: Program, records: readonly OpRecord[]): Map<number, { thread: string; index: number; op: string; result?: number }> {
  const ends = new Map<string, OpRecord[]>();
  for (const r of records) ends.set(r.thread, [...(ends.get(r.thread) ?? []), r]);
  const opOf = (thread: string, i: number): string | undefined => {
    const m = /^P(\d+)\.T(\d+)$/.exec(thread);
    const k = /^K(\d+)$/.exec(thread);
    const ops = m ? program.processes[Number(m[1])]?.threads[Number(m[2])] : k ? program.kthreads?.[Number(k[1])] : undefined;
    const op = ops?.[i];
    return op && formatOp(op);
  };
  const next = new Map<string, number>();
  const out = new Map<number, { thread: string; index: number; op: string; result?: number }>();
  for (const e of trace.entries) {
    const thread = trace.taskNames[e.task]!;
    const i = next.get(thread) ?? 0;
    const op = opOf(thread, i);
    if (op === undefined) continue;
    const rec = ends.get(thread)?.find((r) => r.index === i);
    out.set(e.step, { thread, index: i, op, result: rec?.end === e.step ? rec.result : undefined });
    if (rec && e.step >= rec.end) next.set(thread, i + 1);
  }
  return out;
}

/** Cut to the width, with an ellipsis; continuation lines are indented under the label. */
function wrap(head: string, body: string, width: number): string[] {
  const lines: string[] = [];
  let rest = body;
  let first = true;
  while (rest.length > 0) {
    const room = width - head.length;
    let cut = rest.length <= room ? rest.length : rest.lastIndexOf(' ', room);
    if (cut <= 0) cut = room;
    lines.push(`${first ? head : ' '.repeat(head.length)}${rest.slice(0, cut)}`.trimEnd());
    rest = rest.slice(cut).trimStart();
    first = false;
  }
  return lines.length ? lines : [head.trimEnd()];
}

export interface StepListOptions {
  readonly mark?: number;
  readonly named?: ReadonlySet<number>;
  readonly width?: number;
}

function stepText(e: TraceEntry): string {
  const stack = e.stack && e.stack.length > 0 ? `  [${e.stack.join(' > ')}]` : '';
  return `${e.label}${e.events.length ? ` {${e.events.join('; ')}}` : ''}${stack}`;
}

/**
 * The interleaving as a list, one step a line (wrapped, never cut): the
 * step, its task, what it did (the preemption label, its lock events, and
 * with a traced model the kernel function stack, outermost first), and where
 * each op of a task begins and returns. `>>` marks the step the violation was
 * detected at, `**` every step its message names (the bad store, the free).
 */
export function stepList(trace: Trace, program: Program, records: readonly OpRecord[], o: StepListOptions = {}): string {
  const width = o.width ?? REPORT_COLUMNS;
  const ops = opsByStep(trace, program, records);
  const taskW = Math.max(4, ...trace.taskNames.map((n) => n.length));
  const stepW = Math.max(3, String(trace.entries.at(-1)?.step ?? 0).length);
  const seen = new Set<string>();
  const lines: string[] = [];
  const entries = trace.entries;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    const name = trace.taskNames[e.task]!;
    const op = ops.get(e.step);
    // A retry loop (cond_resched, a spinning trylock) is one line: `34-49 ... (x16)`.
    const quiet = (x: TraceEntry | undefined): boolean => x !== undefined && x.task === e.task && x.label === e.label && x.events.length === 0 && x.step !== o.mark && !o.named?.has(x.step) && ops.get(x.step)?.result === undefined;
    let last = k;
    while (quiet(entries[last]) && quiet(entries[last + 1]) && ops.get(entries[last + 1]!.step)?.index === op?.index) last++;
    if (last > k + 1) {
      lines.push(`   ${`${e.step}-${entries[last]!.step}`.padStart(stepW)} ${name.padEnd(taskW)} │ ${e.label} (x${last - k + 1})`);
      k = last;
      continue;
    }
    if (op && !seen.has(`${op.thread}.${op.index}`)) {
      seen.add(`${op.thread}.${op.index}`);
      lines.push(...wrap(`${' '.repeat(stepW + 4)}${name.padEnd(taskW)} ┌ `, op.op, width));
    }
    const mark = e.step === o.mark ? '>>' : o.named?.has(e.step) ? '**' : '  ';
    lines.push(...wrap(`${mark} ${String(e.step).padStart(stepW)} ${name.padEnd(taskW)} │ `, stepText(e), width));
    if (op?.result !== undefined) lines.push(`${' '.repeat(stepW + 4)}${name.padEnd(taskW)} └ returned ${op.result}`);
  }
  if (o.mark !== undefined && o.mark > (trace.entries.at(-1)?.step ?? -1)) lines.push(`>> ${String(o.mark).padStart(stepW)} (the check at the end of the run)`);
  return lines.join('\n');
}
