import type { Schedule, Trace, TraceEntry } from '../../engine/index.ts';
import type { OpRecord } from '../../engine/program/history.ts';
import type { Program } from '../../engine/program/ops.ts';
import { namedSteps, opsByStep } from '../../runner/steps-text.ts';
import type { Failure } from '../../runner/index.ts';

/** A traced replay as data (it crosses the thread boundary): what the HTML report draws. */
export interface Interleaving {
  readonly tasks: readonly string[];
  readonly steps: readonly TraceEntry[];
  /** The step the violation was found at; past the last step for a check at the end of the run. */
  readonly mark?: number;
  /** Steps at which the schedule preempted the running task (the repro's switches). */
  readonly preempted: readonly number[];
  /** Every step the message names (the bad store, the free): highlighted beside the mark. */
  readonly named?: readonly number[];
  /** Where each op begins (its text) and returns (its result), by step. */
  readonly ops?: readonly OpMark[];
}

export interface OpMark {
  readonly step: number;
  readonly task: number;
  readonly begin?: string;
  readonly returned?: number;
}

/** What the op boundaries and the named steps are worked out from. */
export interface RunFacts {
  readonly program: Program;
  readonly records: readonly OpRecord[];
  readonly message?: string;
}

function opMarks(trace: Trace, f: RunFacts): OpMark[] {
  const byStep = opsByStep(trace, f.program, f.records);
  const seen = new Set<string>();
  const out: OpMark[] = [];
  for (const e of trace.entries) {
    const op = byStep.get(e.step);
    if (!op) continue;
    const first = !seen.has(`${op.thread}.${op.index}`);
    seen.add(`${op.thread}.${op.index}`);
    if (first || op.result !== undefined) out.push({ step: e.step, task: e.task, begin: first ? op.op : undefined, returned: op.result });
  }
  return out;
}

/** One repro as the reports show it: the text of the console report, in parts. */
export interface ReproView {
  readonly property: string;
  /** `VIOLATION data-integrity`, or `NO LONGER FAILS ...` for a replay that passes. */
  readonly heading: string;
  readonly message: string;
  readonly notes: readonly string[];
  readonly program: string;
  readonly schedule: string;
  readonly interleaving: Interleaving;
}

/** The engine's formatters, taken from the tree the repro ran on (a patched copy may differ). */
export interface Formatters {
  formatProgram(p: Program): string;
  encodeSchedule(s: Schedule): string;
}

export function interleavingOf(trace: Trace, schedule: Schedule, mark: number | undefined, facts?: RunFacts): Interleaving {
  const base = { tasks: [...trace.taskNames], steps: trace.entries, mark, preempted: schedule.map((s) => s.step) };
  if (!facts) return base;
  return { ...base, named: facts.message ? [...namedSteps(facts.message)] : [], ops: opMarks(trace, facts) };
}

export function shrinkNote(f: Failure): string {
  const s = f.shrink;
  return `found by run ${f.run} of seed ${f.seed}; shrunk from ${s.fromOps} ops / ${s.fromSwitches} switches to ${s.ops} ops / ${s.switches} switches`;
}

/** A campaign's failure, from its traced replay. */
export function failureView(f: Failure, trace: Trace, mark: number | undefined, message: string | undefined, fmt: Formatters, records: readonly OpRecord[] = []): ReproView {
  return {
    property: f.property,
    heading: `VIOLATION ${f.property}`,
    message: message ?? f.message,
    notes: [shrinkNote(f)],
    program: fmt.formatProgram(f.repro.program),
    schedule: fmt.encodeSchedule(f.repro.schedule) || '(default order)',
    interleaving: interleavingOf(trace, f.repro.schedule, mark, { program: f.repro.program, records, message: message ?? f.message }),
  };
}
