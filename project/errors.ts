/** A patch and the tree it is applied to: every class here is bad input (exit 2). */
export class PatchApplyError extends Error {
  constructor(
    readonly patch: string,
    readonly file: string,
    readonly hunk: string,
  ) {
    super(`patch ${patch} does not apply: ${file} ${hunk} does not match the clean model; regenerate the patch with 'git diff' against this tree`);
    this.name = 'PatchApplyError';
  }
}

/** The tree already holds what the patch would make: it was applied to the checkout itself. */
export class PatchAlreadyAppliedError extends Error {
  constructor(patch: string, file: string) {
    super(`patch ${patch} is already applied to ${file} in this tree; revert it (git checkout -- ${file}) and give the patch again, or fuzz the tree as it is without --patch`);
    this.name = 'PatchAlreadyAppliedError';
  }
}

export class PatchFormatError extends Error {
  constructor(patch: string, why: string) {
    super(`patch ${patch} is not a unified diff (${why}); write it with 'git diff' or 'diff -u'`);
    this.name = 'PatchFormatError';
  }
}

/** The patched model does not load: a syntax error, a missing import, a throw at load time. */
export class PatchLoadError extends Error {
  constructor(patch: string, where: string, why: string) {
    super(`patch ${patch} applies but the patched model does not load: ${where}: ${why}; fix the patch so that the model compiles`);
    this.name = 'PatchLoadError';
  }
}
