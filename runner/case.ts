import { Replay, type Schedule, type Strategy, type Violation } from '../engine/index.ts';
import { runProgram, type RunHooks, type RunResult } from '../engine/program/executor.ts';
import type { Program } from '../engine/program/ops.ts';
import { hooksFor, type Property } from '../properties/index.ts';

export const CAMPAIGN_MAX_STEPS = 5_000;

export interface CaseOptions {
  readonly properties: readonly Property[];
  readonly maxSteps?: number;
  readonly trace?: boolean;
  readonly debug?: boolean;
}

/** Run one program under one strategy with the selected properties checked (wrap: add hooks of one's own, e.g. coverage). */
export function runCase(program: Program, strategy: Strategy, o: CaseOptions, wrap?: (h: RunHooks) => RunHooks): RunResult {
  const hooks = hooksFor(o.properties);
  return runProgram(program, { strategy, hooks: wrap ? wrap(hooks) : hooks, maxSteps: o.maxSteps ?? CAMPAIGN_MAX_STEPS, trace: o.trace, debug: o.debug });
}

export function replayCase(program: Program, schedule: Schedule, o: CaseOptions): RunResult {
  return runCase(program, new Replay(schedule), o);
}

/**
 * The violation, if it belongs to a selected property. The engine reports
 * deadlock, liveness, lock-order, kernel-bug and memory-safety on its own;
 * a user who deselected one does not want to hear about it.
 */
export function selectedViolation(r: RunResult, o: CaseOptions): Violation | undefined {
  const v = r.violation;
  if (!v) return undefined;
  return o.properties.some((p) => p.name === v.property) ? v : undefined;
}
