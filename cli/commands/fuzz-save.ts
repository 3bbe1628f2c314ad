import { entryFromFailure } from '../../corpus/entry.ts';
import { shown } from '../../corpus/errors.ts';
import { saveEntry, type SaveOutcome } from '../../corpus/store.ts';
import type { Found } from '../campaign/messages.ts';
import type { Progress } from '../progress.ts';

/** Where failures go without --corpus: libFuzzer's crash directory, in the current directory. */
export const DEFAULT_OUT = 'mmfuzz-out';

export interface SaveContext {
  readonly dir: string;
  readonly engine: string;
  readonly patch?: string;
  readonly checks: readonly string[];
  readonly saved: Map<string, SaveOutcome>;
}

/** The one command that reproduces a saved failure, as the user would type it. */
export function reproduceCommand(file: string): string {
  return `npx mmfuzz replay ${shown(file)}`;
}

/**
 * Print a failure as it arrives and save it (every failure is saved: a night's
 * bug must not be lost for want of a flag); a smaller repro of a known bug
 * replaces it. The block ends with the command that reproduces it.
 */
export function failureHandler(c: SaveContext, progress: Progress) {
  return (found: Found, kind: 'new' | 'smaller'): void => {
    const f = found.failure;
    const s = saveEntry(c.dir, entryFromFailure(f, c.engine, c.patch, c.checks));
    c.saved.set(f.signature, s);
    const where = s.action === 'kept' ? 'already saved as' : s.action === 'added' ? 'saved to' : 'saved (a smaller repro) to';
    const head = kind === 'new' ? `${found.report}\n\n` : `a smaller repro of ${f.property} (${f.shrink.ops} ops / ${f.shrink.switches} switches), found by run ${f.run}; `;
    progress.log(`${head}${where} ${shown(s.file)}\nreproduce: ${reproduceCommand(s.file)}\n`);
  };
}
