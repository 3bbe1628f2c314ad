// mmfuzz's public API: the one barrel (package.json "exports"). What is not
// exported here is internal and may change.

// Programs and running them on the model.
export { runProgram, type RunOptions, type RunResult, type RunHooks, type RunContext } from './engine/program/executor.ts';
export { countOps, OP_KINDS, type Program, type ProcessSpec, type Op, type OpKind, type Prot } from './engine/program/ops.ts';
export type { OpRecord } from './engine/program/history.ts';
export { formatProgram, formatOp } from './engine/program/format.ts';
export { encodeSchedule, decodeSchedule, ScheduleFormatError, RandomWalk, Pct, Replay, type Schedule, type Switch, type Strategy } from './engine/index.ts';
// A property reports a violation with report(name, message) (it throws a ViolationError).
export { report, ViolationError, type Violation } from './engine/index.ts';

// Generators (fast-check arbitraries).
export { programArb, scheduleArb, makeStrategy, GeneratorOptionsError, type ProgramArbOptions, type ScheduleArbOptions, type ScheduleSpec } from './generators/index.ts';

// Properties.
export { properties, propertyNames, getProperty, selectProperties, hooksFor, UnknownPropertyError, type Property } from './properties/index.ts';

// Campaigns, shrinking, replay, reports.
export {
  fuzz,
  shrink,
  replayCase,
  runCase,
  replayTwice,
  formatFailure,
  signatureOf,
  NondeterminismError,
  CAMPAIGN_MAX_STEPS,
  type FuzzOptions,
  type FuzzResult,
  type FuzzProgress,
  type ShrinkResult,
  type CaseOptions,
  type Failure,
  type Repro,
  type ShrinkStats,
} from './runner/index.ts';

// The corpus.
export {
  loadEntry,
  saveEntry,
  listEntries,
  writeEntry,
  parseEntry,
  entryFromFailure,
  failureOf,
  replayEntry,
  mergeCorpora,
  pruneCorpus,
  engineHash,
  CORPUS_SCHEMA,
  CorpusFormatError,
  CorpusDirError,
  CorpusFileError,
  type CorpusEntry,
  type StoredEntry,
  type SaveOutcome,
  type ReplayOutcome,
  type MergeResult,
  type Pruned,
} from './corpus/index.ts';
