import type { Violation } from '../engine/index.ts';

/**
 * Violations that differ only in numbers (steps, pfns, addresses, object ids,
 * values) are one bug: the signature is the property and the message with
 * every number folded to N.
 */
export function signatureOf(v: Violation): string {
  const msg = v.message
    .replace(/\d+/g, 'N')
    .replace(/\{[^}]*\}/g, '{…}')
    .slice(0, 160);
  return `${v.property}: ${msg}`;
}
