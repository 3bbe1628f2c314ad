// What a run of the stepper (execution.ts) is given and what it returns.
import type { Execution } from './execution.ts';
import type { Schedule } from './schedule.ts';
import type { Strategy } from './strategy.ts';
import type { Task } from './task.ts';
import type { Trace } from './trace.ts';
import type { Violation } from './violation.ts';

export interface ExecutionOptions {
  readonly strategy: Strategy;
  /** Step budget; running out of it is a `liveness` violation. */
  readonly maxSteps?: number;
  /** Record every step (needed for reports and the determinism test). */
  readonly trace?: boolean;
  /** Capture JS stacks for lockdep and KASAN sites (slow; for reports). */
  readonly debug?: boolean;
  /** Checked after every step; throw a ViolationError to stop. */
  readonly afterStep?: (ex: Execution) => void;
  /** A task returned: whoever owns per-task state (lockdep's held locks, RCU nesting) checks it. */
  readonly onTaskExit?: (task: Task) => void;
}

export interface ExecutionResult {
  readonly violation: Violation | undefined;
  readonly steps: number;
  /** The canonical schedule: the switches that actually happened. */
  readonly schedule: Schedule;
  readonly trace: Trace | undefined;
  readonly warnings: readonly string[];
  readonly strategy: string;
}
