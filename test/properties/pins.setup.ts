// The setup shared by the specs of the oracle's pins (pin-detach.spec.ts, oracle/pins.spec.ts).
import { isViolationError } from '../../engine/sched/violation.ts';
import type { OpRecord } from '../../engine/program/history.ts';
import { checkDataIntegrity } from '../../properties/index.ts';
import { checkPinData } from '../../properties/gup-pin-coherence.ts';
import { asHistory } from '../helpers/records.ts';

/** "property: message" of the first of data-integrity and the pin-data check to fail a history, or undefined if both hold. */
export function pinVerdict(recs: OpRecord[]): string | undefined {
  const ctx = { history: asHistory(recs) };
  try {
    checkDataIntegrity(ctx);
    checkPinData(ctx);
    return undefined;
  } catch (e) {
    if (isViolationError(e)) return `${e.violation.property}: ${e.violation.message}`;
    throw e;
  }
}
