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

export class PatchFormatError extends Error {
  constructor(patch: string, why: string) {
    super(`patch ${patch} is not a unified diff (${why}); write it with 'git diff' or 'diff -u'`);
    this.name = 'PatchFormatError';
  }
}
