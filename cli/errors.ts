import * as corpusErrors from '../corpus/errors.ts';
import { ScheduleFormatError } from '../engine/index.ts';
import * as generatorErrors from '../generators/errors.ts';
import * as mutationErrors from '../mutation/errors.ts';
import * as projectErrors from '../project/errors.ts';
import * as propertyErrors from '../properties/errors.ts';

/** Bad usage or bad input: the command exits 2 with the one-line message. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A second SIGINT/SIGTERM while a campaign was stopping. */
export class AbortedError extends Error {
  constructor(saved: number) {
    super(`aborted${saved ? `; the ${saved} violation(s) found so far are already saved` : ''}`);
    this.name = 'AbortedError';
  }
}

/**
 * Every error class exported by a module's errors.ts is about its input (a
 * patch, a corpus file, a property name, generator options). Matched by name,
 * not instanceof: the same classes from a patched Workspace copy, or thrown
 * in a worker thread and posted back, are other objects with the same name.
 */
const BAD_INPUT = new Set(
  [UsageError, ScheduleFormatError, ...[corpusErrors, generatorErrors, mutationErrors, projectErrors, propertyErrors].flatMap((m) => Object.values(m))]
    .filter((c) => typeof c === 'function' && (c as { prototype: unknown }).prototype instanceof Error)
    .map((c) => (c as { name: string }).name),
);

export function isBadInput(e: unknown): e is Error {
  return e instanceof UsageError || (e instanceof Error && BAD_INPUT.has(e.name));
}
