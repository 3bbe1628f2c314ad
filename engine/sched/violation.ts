/**
 * One violation type for the whole engine: the property it breaks, a one-line
 * message, and the step it happened at. Kernel paths raise it by throwing a
 * ViolationError; the execution catches it and stops there.
 */
export interface Violation {
  /** A property name as users type it: `kernel-bug`, `memory-safety`, `lock-order`, ... */
  readonly property: string;
  readonly message: string;
  /** Global step number at which it was detected (-1 outside any execution). */
  readonly step: number;
  /** Name of the task that was running, if any. */
  readonly task?: string;
}

export class ViolationError extends Error {
  constructor(readonly violation: Violation) {
    super(`${violation.property}: ${violation.message}`);
    this.name = 'ViolationError';
  }
}

export function isViolationError(e: unknown): e is ViolationError {
  return e instanceof ViolationError;
}

/**
 * What a throw out of a kernel path means: a raised violation, or the
 * model's oops. A NULL dereference in the kernel is a crash, and so is a
 * TypeError here.
 */
export function toViolation(e: unknown, step: number, task: string | undefined): Violation {
  if (isViolationError(e)) return e.violation;
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { property: 'kernel-bug', message: `oops: ${msg}`, step, task };
}
