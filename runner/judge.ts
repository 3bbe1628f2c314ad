import type { Violation } from '../engine/index.ts';
import { signatureOf } from './signature.ts';

/**
 * How a replay compares with the failure it should show:
 * - reproduced: the same property and the same signature (the same bug);
 * - differs: the same property, another message (the model changed under it);
 * - other: another property fired first;
 * - passes: nothing fired.
 */
export type Verdict = 'reproduced' | 'differs' | 'other' | 'passes';

export interface Expected {
  readonly property: string;
  /** Without one (a shrink candidate), any violation of the property is the failure. */
  readonly signature?: string;
}

/** The one judgement that replay, prune, shrink, the campaign's replay-twice and the corpus specs share. */
export function verdictOf(v: Violation | undefined, want: Expected): Verdict {
  if (!v) return 'passes';
  if (v.property !== want.property) return 'other';
  return want.signature === undefined || signatureOf(v) === want.signature ? 'reproduced' : 'differs';
}

/** Still a failure of its property: a regression entry that must stay, a shrink step that may be taken. */
export function stillFails(v: Verdict): boolean {
  return v === 'reproduced' || v === 'differs';
}
