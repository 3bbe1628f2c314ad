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
