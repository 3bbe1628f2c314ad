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

export class PatchHeaderError extends Error {
  constructor(
    readonly patch: string,
    why: string,
  ) {
    super(`patch ${patch}: ${why}; see mutation/patches/README.md for the header format`);
    this.name = 'PatchHeaderError';
  }
}

export class PatchFileError extends Error {
  constructor(file: string, why: string) {
    super(`cannot read patch ${file} (${why}); name an existing .patch file or leave FILE out to check mutation/patches/*.patch`);
    this.name = 'PatchFileError';
  }
}

export class NoPatchesError extends Error {
  constructor(dir: string) {
    super(`no patches in ${dir}; write one as described in mutation/patches/README.md`);
    this.name = 'NoPatchesError';
  }
}

export class BudgetError extends Error {
  constructor(text: string) {
    super(`--budget "${text}" is not a duration; write it like 60s, 500ms, 2m or 1h`);
    this.name = 'BudgetError';
  }
}
