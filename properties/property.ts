import type { OpRecord } from '../engine/program/history.ts';
import type { RunContext } from '../engine/program/executor.ts';

/**
 * An invariant users name on the command line. Properties the engine itself
 * detects (deadlock, liveness, lock-order, kernel-bug, memory-safety) have no
 * hooks: they are listed so that they can be selected and described.
 */
export interface Property {
  readonly name: string;
  readonly description: string;
  /** Cheap: after every step. */
  afterStep?(ctx: RunContext): void;
  /** After every completed op (syscall). */
  afterOp?(ctx: RunContext, rec: OpRecord): void;
  /** After the last task finished. */
  atEnd?(ctx: RunContext): void;
}
