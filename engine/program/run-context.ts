/** What a run exposes to properties: the hooks they register and the context they look at. */
import type { Kernel } from '../kernel/boot.ts';
import type { Machine } from '../mm/machine.ts';
import type { Execution, ExecutionResult } from '../sched/execution.ts';
import type { Strategy } from '../sched/strategy.ts';
import type { History, OpRecord } from './history.ts';
import type { Program } from './ops.ts';
import type { UserSpace } from './userspace.ts';

export interface RunHooks {
  /** After every step: cheap checks only. */
  afterStep?(ctx: RunContext): void;
  /** After every completed op (syscall). */
  afterOp?(ctx: RunContext, rec: OpRecord): void;
  /** Once every task has finished, with the run's Kernel still on the CPU. */
  atEnd?(ctx: RunContext): void;
}

export interface RunOptions {
  readonly strategy: Strategy;
  readonly maxSteps?: number;
  readonly trace?: boolean;
  readonly debug?: boolean;
  readonly hooks?: RunHooks;
}

/** Everything a property may look at during and after a run. */
export interface RunContext {
  readonly program: Program;
  readonly kernel: Kernel;
  readonly machine: Machine;
  readonly execution: Execution;
  readonly history: History;
  readonly spaces: UserSpace[];
  /** User threads currently inside an op (or exiting): 0 means quiescent. */
  busy: number;
}

export interface RunResult extends ExecutionResult {
  readonly history: History;
  readonly context: RunContext;
}
