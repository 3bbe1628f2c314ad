import type { Violation } from '../engine/index.ts';
import type { RunResult } from '../engine/program/executor.ts';
import type { CorpusEntry } from './entry.ts';
import { EntryPropertyError } from './errors.ts';
import { cleanModel, type Model } from './model.ts';

export interface ReplayOutcome {
  /** The entry still violates its property. */
  readonly reproduced: boolean;
  /** What the replay reported, if anything (it may be another property now). */
  readonly violation?: Violation;
  readonly result: RunResult;
}

export interface ReplayOptions {
  readonly trace?: boolean;
  readonly debug?: boolean;
}

/** The selection an entry replays with: its own property is enough (see replayEntry). */
export function entryProperties(e: CorpusEntry, model: Model = cleanModel) {
  if (!model.props.propertyNames.includes(e.property)) throw new EntryPropertyError(e.property, model.props.propertyNames);
  return model.props.selectProperties([e.property]);
}

/**
 * Replay an entry's program under its schedule and see whether it still
 * violates its property. Only that property is checked: the others selected
 * in the campaign did not fire before it (else they would have been
 * reported), and the engine's own checks run regardless, so the run is the
 * one the campaign saw.
 */
export function replayEntry(e: CorpusEntry, model: Model = cleanModel, o: ReplayOptions = {}): ReplayOutcome {
  const result = model.runner.replayCase(e.program, e.schedule, { properties: entryProperties(e, model), ...o });
  return { reproduced: result.violation?.property === e.property, violation: result.violation, result };
}
