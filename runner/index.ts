export { fuzz, type FuzzOptions, type FuzzResult, type FuzzProgress } from './fuzz.ts';
export { shrink, type ShrinkResult } from './shrink.ts';
export { replayTwice, NondeterminismError } from './verify.ts';
export { runCase, replayCase, selectedViolation, CAMPAIGN_MAX_STEPS, type CaseOptions } from './case.ts';
export { signatureOf } from './signature.ts';
export { verdictOf, stillFails, type Verdict, type Expected } from './judge.ts';
export { formatFailure } from './report.ts';
export { runSeed, generateCase, caseArb } from './seeds.ts';
export type { Failure, Repro, ShrinkStats } from './types.ts';
