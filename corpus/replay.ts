import type { Violation } from '../engine/index.ts';
import type { RunResult } from '../engine/program/executor.ts';
import { stillFails, verdictOf, type Verdict } from '../runner/judge.ts';
import type { Property } from '../properties/index.ts';
import { EntryPropertyError } from './errors.ts';
import { cleanModel, type Model } from './model.ts';

/** What an entry needs to be judged: corpus/ entries and corpus/known-bad/ entries both have it. */
export interface Judgeable {
  readonly property: string;
  readonly signature: string;
  readonly program: RunResult['context']['program'];
  readonly schedule: RunResult['schedule'];
  /** The properties the campaign checked; absent in older entries, which were found with all of them. */
  readonly checks?: readonly string[];
  readonly patch?: string;
}

export interface ReplayOutcome {
  readonly verdict: Verdict;
  /** The entry still violates its property (reproduced, or differs: the same property, another message). */
  readonly reproduced: boolean;
  /** What the replay reported, if anything (it may be another property now). */
  readonly violation?: Violation;
  readonly result: RunResult;
}

export interface ReplayOptions {
  readonly trace?: boolean;
  readonly debug?: boolean;
}

/**
 * The checks an entry replays with: the ones its campaign had on, so the run
 * is the one the campaign saw (with fewer, a check that fired first in the
 * campaign would not stop the run, and a later one might fire instead).
 */
export function entryChecks(e: Judgeable, model: Model = cleanModel): readonly Property[] {
  const known = model.props.propertyNames;
  for (const name of [e.property, ...(e.checks ?? [])]) if (!known.includes(name)) throw new EntryPropertyError(name, known);
  return e.checks === undefined ? model.props.properties : model.props.selectProperties(e.checks);
}

/**
 * Judge an entry: replay its program under its schedule with its checks and
 * compare the violation with the recorded one (runner/judge.ts). The one
 * judgement of `mmfuzz replay`, `corpus prune`, `shrink` and the corpus specs.
 * Debug mode changes messages (KASAN names stacks), so the verdict is always
 * taken on a plain run; a traced or debug run for the report comes on top.
 */
export function replayEntry(e: Judgeable, model: Model = cleanModel, o: ReplayOptions = {}): ReplayOutcome {
  const properties = entryChecks(e, model);
  const plain = model.runner.replayCase(e.program, e.schedule, { properties });
  const v = model.runner.selectedViolation(plain, { properties });
  const verdict = verdictOf(v, e);
  const result = o.trace || o.debug ? model.runner.replayCase(e.program, e.schedule, { properties, ...o }) : plain;
  return { verdict, reproduced: stillFails(verdict), violation: result.violation ?? v, result };
}
