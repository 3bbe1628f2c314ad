import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../project/root.ts';
import { PatchNotFoundError } from './errors.ts';

const PATCHES_DIR = join(PROJECT_ROOT, 'mutation', 'patches');

/**
 * How an entry names the patch it was found with: relative to the project
 * root when the patch lives in it (the same on every checkout), else the
 * absolute path. corpus/known-bad/ entries name just the file in
 * mutation/patches/; resolvePatch() accepts both.
 */
export function patchName(file: string): string {
  const abs = resolve(file);
  const rel = relative(PROJECT_ROOT, abs);
  return rel.startsWith('..') || isAbsolute(rel) ? abs : rel.split('\\').join('/');
}

export function resolvePatch(name: string): string {
  const candidates = isAbsolute(name) ? [name] : [join(PROJECT_ROOT, name), join(PATCHES_DIR, name)];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new PatchNotFoundError(name, isAbsolute(name) ? [name] : [PROJECT_ROOT, PATCHES_DIR]);
  return found;
}
