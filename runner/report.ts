import { formatProgram } from '../engine/program/format.ts';
import { encodeSchedule } from '../engine/index.ts';
import type { RunResult } from '../engine/program/executor.ts';
import { properties as allProperties } from '../properties/index.ts';
import type { CaseOptions } from './case.ts';
import { replayCase } from './case.ts';
import { namedSteps, stepList } from './steps-text.ts';
import type { Failure } from './types.ts';

export interface ReportOptions extends Partial<CaseOptions> {
  /** Lanes, one column per task (as before), instead of the step list. */
  readonly lanes?: boolean;
}

/** Lanes only for the tasks that ran (no empty rcu_gp column), as wide as the report allows. */
function lanes(r: RunResult, mark: number | undefined): string {
  return r.trace!.toLanes({ mark, width: Math.max(12, Math.floor(110 / Math.max(1, new Set(r.trace!.entries.map((e) => e.task)).size)) - 3) });
}

/**
 * A failure as people read it: the property and message, the minimal program,
 * and the interleaving step by step (op boundaries, the preemption label, the
 * lock events, the kernel function stack when the run was traced), with the
 * step the violation was detected at marked `>>` and the steps its message
 * names marked `**`. Replayed in debug mode (lockdep and KASAN name kernel
 * stacks) unless a traced run is given. The properties default to all of them.
 */
export function formatFailure(f: Failure, o: ReportOptions = {}, traced?: RunResult): string {
  const r = traced ?? replayCase(f.repro.program, f.repro.schedule, { ...o, properties: o.properties ?? allProperties, trace: true, debug: true });
  const v = r.violation;
  const message = v?.message ?? f.message;
  const named = namedSteps(message);
  const marks = [v ? `>> the step it was detected at (${v.step})` : '', named.size ? `** the steps the message names (${[...named].join(', ')})` : ''].filter(Boolean);
  const lines = [
    `VIOLATION ${f.property}: ${message}`,
    `  found by run ${f.run} of seed ${f.seed}; shrunk from ${f.shrink.fromOps} ops / ${f.shrink.fromSwitches} switches to ${f.shrink.ops} ops / ${f.shrink.switches} switches in ${f.shrink.runs} runs (${f.shrink.ms.toFixed(0)} ms)`,
    '',
    'program:',
    ...formatProgram(f.repro.program).split('\n').map((l) => `  ${l}`),
    '',
    `schedule: ${encodeSchedule(f.repro.schedule) || '(default order)'}`,
    '',
    `interleaving${marks.length ? ` (${marks.join('; ')})` : ''}:`,
    o.lanes ? lanes(r, v?.step) : stepList(r.trace!, f.repro.program, r.history.records, { mark: v?.step, named }),
  ];
  return lines.join('\n');
}
