import { formatProgram } from '../engine/program/format.ts';
import { encodeSchedule } from '../engine/index.ts';
import type { CaseOptions } from './case.ts';
import type { Failure } from './types.ts';
import { replayCase } from './case.ts';

/**
 * A failure as people read it: the property and message, the minimal program,
 * and the interleaving as lanes (one column per task) with the violating step
 * marked. Replayed in debug mode, so lockdep and KASAN name kernel stacks.
 */
export function formatFailure(f: Failure, o: CaseOptions): string {
  const r = replayCase(f.repro.program, f.repro.schedule, { ...o, trace: true, debug: true });
  const v = r.violation;
  const lines = [
    `VIOLATION ${f.property}: ${v?.message ?? f.message}`,
    `  found by run ${f.run} of seed ${f.seed}; shrunk from ${f.shrink.fromOps} ops / ${f.shrink.fromSwitches} switches to ${f.shrink.ops} ops / ${f.shrink.switches} switches in ${f.shrink.runs} runs (${f.shrink.ms.toFixed(0)} ms)`,
    '',
    'program:',
    ...formatProgram(f.repro.program).split('\n').map((l) => `  ${l}`),
    '',
    `schedule: ${encodeSchedule(f.repro.schedule) || '(default order)'}`,
    '',
    'interleaving:',
    r.trace!.toLanes({ mark: v?.step }),
  ];
  return lines.join('\n');
}
