import { replayCase, selectedViolation, type CaseOptions } from './case.ts';
import { stillFails, verdictOf } from './judge.ts';
import type { Repro } from './types.ts';

export class NondeterminismError extends Error {
  constructor(what: string) {
    super(`replay is not deterministic: ${what}; this is an engine bug, please report it with the repro`);
    this.name = 'NondeterminismError';
  }
}

/**
 * Replay a repro twice, with full tracing, and insist both runs are identical
 * and violate `property`: a failure is only reported once it is proven
 * deterministic. Returns the traced run.
 */
export function replayTwice(repro: Repro, property: string, o: CaseOptions) {
  const traced = { ...o, trace: true };
  const a = replayCase(repro.program, repro.schedule, traced);
  const b = replayCase(repro.program, repro.schedule, traced);
  const va = selectedViolation(a, traced);
  const vb = selectedViolation(b, traced);
  if (!stillFails(verdictOf(va, { property }))) throw new NondeterminismError(`the shrunk repro no longer violates ${property}`);
  if (JSON.stringify(va) !== JSON.stringify(vb)) throw new NondeterminismError('two replays report different violations');
  if (a.trace!.toText() !== b.trace!.toText()) throw new NondeterminismError('two replays have different traces');
  return a;
}
