import { checkPatches, DEFAULT_BUDGET_MS } from '../../mutation/check-patches.ts';
import { println, type Io } from '../io.ts';

export interface CheckPatchesFlags {
  /** Campaign time per patch, in ms (parsed by the program). */
  readonly budget?: number;
  readonly json?: boolean;
  readonly update?: boolean;
}

export { DEFAULT_BUDGET_MS };

/**
 * `mmfuzz check-patches [FILE...]`: 0 every patch caught by the property its
 * header expects, 1 some missed or caught by another property. Bad input
 * (a patch that does not apply or load, a bad header) is thrown: exit 2.
 */
export async function checkPatchesCommand(files: readonly string[], flags: CheckPatchesFlags, io: Io): Promise<number> {
  const reports = await checkPatches(files, {
    budgetMs: flags.budget ?? DEFAULT_BUDGET_MS,
    json: flags.json === true,
    update: flags.update === true,
    out: (t) => println(io.stdout, t),
    progress: (t) => println(io.stderr, t),
  });
  return reports.every((r) => r.caught) ? 0 : 1;
}
