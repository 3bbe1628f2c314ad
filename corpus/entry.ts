import type { Schedule } from '../engine/index.ts';
import { countOps, type Program } from '../engine/program/ops.ts';
import type { Failure, ShrinkStats } from '../runner/index.ts';

export const CORPUS_SCHEMA = 1;

/**
 * One failure as stored in the corpus: everything needed to replay it and to
 * tell whether it still means the same bug. No timestamps: a campaign rerun
 * with the same seed writes the same bytes (shrink.ms aside).
 */
export interface CorpusEntry {
  readonly schema: typeof CORPUS_SCHEMA;
  /** engineHash() of the engine the repro was found on. */
  readonly engine: string;
  readonly property: string;
  readonly message: string;
  readonly signature: string;
  readonly seed: number;
  readonly run: number;
  readonly program: Program;
  readonly schedule: Schedule;
  readonly shrink: ShrinkStats;
  /** For entries found on a patched model: the patch (see patch-path.ts). */
  readonly patch?: string;
  /** The properties the campaign checked (replay checks the same); absent in older entries: all of them. */
  readonly checks?: readonly string[];
}

/** `checks`: the properties the campaign checked (default: all, and then not written). */
export function entryFromFailure(f: Failure, engine: string, patch?: string, checks?: readonly string[]): CorpusEntry {
  const e: CorpusEntry = {
    schema: CORPUS_SCHEMA,
    engine,
    property: f.property,
    message: f.message,
    signature: f.signature,
    seed: f.seed,
    run: f.run,
    program: f.repro.program,
    schedule: f.repro.schedule,
    shrink: { ...f.shrink, ms: Math.round(f.shrink.ms) },
    ...(checks === undefined ? {} : { checks: [...checks] }),
  };
  return patch === undefined ? e : { ...e, patch };
}

/** The runner's view of an entry, for formatFailure and friends. */
export function failureOf(e: CorpusEntry): Failure {
  return { property: e.property, message: e.message, signature: e.signature, seed: e.seed, run: e.run, repro: { program: e.program, schedule: e.schedule }, shrink: e.shrink };
}

/** How big a repro is: what "keep the smaller" compares. */
export function reproSize(e: Pick<CorpusEntry, 'program' | 'schedule'>): number {
  return countOps(e.program) + e.schedule.length;
}

/**
 * Two entries are the same bug when their signatures match on the same model:
 * a known-bad patch's repro does not stand in for a clean-model one.
 */
export function dedupKey(e: CorpusEntry): string {
  return e.patch === undefined ? e.signature : `${e.signature}\0${e.patch}`;
}
