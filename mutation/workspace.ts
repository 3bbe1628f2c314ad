import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { applyPatch, parsePatch, type StructuredPatch } from 'diff';
import { PatchApplyError, PatchFormatError } from './errors.ts';

/** The project root (this file lives in mutation/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What a patched copy needs: the model, the properties, and what runs them. */
const COPIED = ['engine', 'properties', 'generators', 'runner', 'package.json'];

/**
 * A temporary copy of the project with a patch applied. The working tree is
 * never touched: the patch lands in the copy, and callers import the copy's
 * modules (import()) to run campaigns against the patched model.
 */
export class Workspace {
  private constructor(readonly root: string) {}

  static create(patchText: string | undefined, patchName = 'patch'): Workspace {
    const root = mkdtempSync(join(tmpdir(), 'mmfuzz-ws-'));
    try {
      for (const entry of COPIED) cpSync(join(PROJECT_ROOT, entry), join(root, entry), { recursive: true });
      symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
      if (patchText !== undefined) applyTo(root, patchText, patchName);
    } catch (e) {
      rmSync(root, { recursive: true, force: true });
      throw e;
    }
    return new Workspace(root);
  }

  /** import() a module of the copy, e.g. 'runner/index.ts'. */
  async import<T>(rel: string): Promise<T> {
    return (await import(pathToFileURL(join(this.root, rel)).href)) as T;
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

function targetPath(p: StructuredPatch): string | undefined {
  const name = p.newFileName && p.newFileName !== '/dev/null' ? p.newFileName : p.oldFileName;
  return name?.replace(/^[ab]\//, '');
}

function hunkName(p: StructuredPatch, i: number): string {
  const h = p.hunks[i]!;
  return `hunk ${i + 1} (@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@)`;
}

/**
 * What a unified diff makes of the tree at root, file by file, without
 * writing anything: every hunk is checked before any file changes, so a
 * patch that fails on its second file leaves no half-patched copy behind.
 * Names the first hunk that fails.
 */
export function patchedFiles(root: string, patchText: string, patchName: string): Map<string, string> {
  let patches: StructuredPatch[];
  try {
    patches = parsePatch(patchText);
  } catch (e) {
    throw new PatchFormatError(patchName, (e as Error).message);
  }
  const files = patches.filter((p) => p.hunks.length > 0);
  if (files.length === 0) throw new PatchFormatError(patchName, 'no hunks found');
  const out = new Map<string, string>();
  for (const p of files) {
    const rel = targetPath(p);
    if (!rel) throw new PatchFormatError(patchName, 'a file header has no name');
    const file = join(root, rel);
    // A second diff of the same file applies on top of the first.
    const source = out.get(rel) ?? (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
    if (source === undefined) throw new PatchApplyError(patchName, rel, '(file not found)');
    const patched = applyPatch(source, p);
    if (patched === false) {
      // Find the first hunk that does not apply on its own.
      let bad = 0;
      for (let i = 0; i < p.hunks.length; i++) {
        if (applyPatch(source, { ...p, hunks: [p.hunks[i]!] }) === false) {
          bad = i;
          break;
        }
      }
      throw new PatchApplyError(patchName, rel, hunkName(p, bad));
    }
    out.set(rel, patched);
  }
  return out;
}

/** Apply a unified diff to the tree at root; name the first hunk that fails. */
export function applyTo(root: string, patchText: string, patchName: string): void {
  for (const [rel, text] of patchedFiles(root, patchText, patchName)) writeFileSync(join(root, rel), text);
}

/** Throw PatchApplyError/PatchFormatError unless the patch applies to the project; reads only. */
export function checkApplies(patchText: string, patchName: string): void {
  patchedFiles(PROJECT_ROOT, patchText, patchName);
}
