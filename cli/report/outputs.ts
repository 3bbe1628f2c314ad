import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../corpus/atomic.ts';
import { UsageError } from '../errors.ts';

/** An output file (--summary, --junit, --html) that cannot be written where it was asked. */
export class OutputPathError extends UsageError {
  constructor(flag: string, file: string, why: string) {
    super(`${flag} ${file}: ${why}; give the path of a file in a writable directory`);
    this.name = 'OutputPathError';
  }
}

const reason = (e: unknown): string => ((e as NodeJS.ErrnoException).code ?? (e as Error).message);

/**
 * Check an output path before a campaign starts, so that a typo fails in a
 * second, not after a night of fuzzing: its directory is made, and the path
 * must not be a directory.
 */
export function prepareOutput(flag: string, file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (e) {
    throw new OutputPathError(flag, file, `cannot create its directory (${reason(e)})`);
  }
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new OutputPathError(flag, file, 'is a directory');
}

/** Written whole or not at all: a CI job killed while writing leaves the previous file, never half of one. */
export function writeOutput(flag: string, file: string, text: string): void {
  try {
    writeFileAtomic(file, text);
  } catch (e) {
    throw new OutputPathError(flag, file, `cannot be written (${reason(e)})`);
  }
}
