// Small exhaustive searches over the interleavings of tiny programs, with
// every property checked: a bounded-preemption sweep (one switch anywhere,
// or a switch and a switch back within a window). The programs are chosen so
// that each race of the model has a small witness.
import { type Schedule, Replay } from '../../../engine/index.ts';
import { runProgram, type RunResult } from '../../../engine/program/executor.ts';
import type { Program } from '../../../engine/program/ops.ts';
import { hooksFor, properties } from '../../../properties/index.ts';

export function runWith(program: Program, schedule: Schedule): RunResult {
  return runProgram(program, { strategy: new Replay(schedule), hooks: hooksFor(properties), maxSteps: 5000 });
}

export interface Sweep {
  readonly runs: number;
  /** The first schedule with a violation, and the violation. */
  readonly failure?: string;
  readonly results: RunResult[];
}

/** Every schedule with one switch (to any of `tasks` tasks), and with a switch back within `window` steps. */
export function sweepSchedules(program: Program, o: { tasks: number; window?: number; keep?: boolean } = { tasks: 2 }): Sweep {
  const base = runWith(program, []);
  const n = base.steps;
  const results: RunResult[] = [];
  let runs = 0;
  const tryOne = (s: Schedule): string | undefined => {
    runs++;
    const r = runWith(program, s);
    if (o.keep) results.push(r);
    return r.violation ? `${JSON.stringify(s)}: ${r.violation.property}: ${r.violation.message}` : undefined;
  };
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < o.tasks; t++) {
      const f = tryOne([{ step: k, task: t }]);
      if (f) return { runs, failure: f, results };
      for (let j = k + 1; j <= k + (o.window ?? 0); j++) {
        for (let u = 0; u < o.tasks; u++) {
          if (u === t) continue;
          const g = tryOne([{ step: k, task: t }, { step: j, task: u }]);
          if (g) return { runs, failure: g, results };
        }
      }
    }
  }
  return { runs, results };
}


