import type { Execution } from './execution.ts';
import type { Task } from './task.ts';
import { ViolationError } from './violation.ts';

/**
 * The kernel's `current`: the execution being run and the task it resumed.
 * Executions run one at a time on one JS thread, so a module-level pointer is
 * exact, and it spares every kernel path an extra parameter.
 */
let running: Execution | undefined;

export function setRunning(ex: Execution | undefined): Execution | undefined {
  const prev = running;
  running = ex;
  return prev;
}

export function currentExecution(): Execution | undefined {
  return running;
}

/** The task being stepped. Only meaningful inside a kernel path. */
export function current(): Task {
  const t = running?.currentTask;
  if (t === undefined) throw new Error('current(): no task is running; call this only from a kernel path');
  return t;
}

/** The current global step, or -1 outside an execution. */
export function currentStep(): number {
  return running?.step ?? -1;
}

/** Raise a violation of `property` at the current step. */
export function report(property: string, message: string): never {
  throw new ViolationError({
    property,
    message,
    step: running?.step ?? -1,
    task: running?.currentTask?.name,
  });
}

/** BUG_ON / VM_BUG_ON: a `kernel-bug` violation naming the function. */
export function BUG_ON(cond: boolean, fn: string, what: string): void {
  if (cond) report('kernel-bug', `kernel BUG at ${fn}: ${what}`);
}

/** WARN_ON: recorded in the trace, not a violation. Returns cond, as the kernel's does. */
export function WARN_ON(cond: boolean, fn: string, what: string): boolean {
  if (cond) running?.warn(`WARNING at ${fn}: ${what}`);
  return cond;
}
