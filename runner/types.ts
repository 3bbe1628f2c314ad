import type { Schedule } from '../engine/index.ts';
import type { Program } from '../engine/program/ops.ts';

/** A minimal repro: a program and the context switches that make it fail. */
export interface Repro {
  readonly program: Program;
  readonly schedule: Schedule;
}

export interface ShrinkStats {
  readonly ops: number;
  readonly switches: number;
  readonly fromOps: number;
  readonly fromSwitches: number;
  /** Executions the shrinker spent. */
  readonly runs: number;
  readonly ms: number;
}

/** A violation found by a campaign, shrunk and replayed. */
export interface Failure {
  readonly property: string;
  readonly message: string;
  readonly signature: string;
  /** The campaign seed and the run (index) that found it. */
  readonly seed: number;
  readonly run: number;
  readonly repro: Repro;
  readonly shrink: ShrinkStats;
}
