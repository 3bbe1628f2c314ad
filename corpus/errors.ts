import { relative } from 'node:path';

/** Paths in messages as the user would type them: relative to where they stand. */
export function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

export class CorpusFormatError extends Error {
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(`${shown(file)} is not a valid corpus entry (${why}); delete it or restore it from version control`);
    this.name = 'CorpusFormatError';
  }
}

export class CorpusDirError extends Error {
  constructor(dir: string, why: string) {
    super(`corpus directory ${shown(dir)} ${why}; name a directory of corpus entries (*.json)`);
    this.name = 'CorpusDirError';
  }
}

export class PatchNotFoundError extends Error {
  constructor(patch: string, where: readonly string[]) {
    super(`the entry names patch ${patch}, which is not in ${where.map(shown).join(' or ')}; restore the patch or delete the entry`);
    this.name = 'PatchNotFoundError';
  }
}

/** The entry's property is gone from the registry it replays against. */
export class EntryPropertyError extends Error {
  constructor(property: string, known: readonly string[]) {
    super(`the entry's property "${property}" is not a property of this model (${known.join(', ')}); it was renamed or removed: fix the entry's "property" or delete it`);
    this.name = 'EntryPropertyError';
  }
}

export class CorpusFileError extends Error {
  constructor(file: string, why: string) {
    super(`cannot read corpus entry ${shown(file)} (${why}); check the path`);
    this.name = 'CorpusFileError';
  }
}
