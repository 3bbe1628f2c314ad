import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyPatch, parsePatch, reversePatch, type StructuredPatch } from 'diff';
import { PatchAlreadyAppliedError, PatchApplyError, PatchFormatError } from './errors.ts';
import { PROJECT_ROOT } from './root.ts';

function targetPath(p: StructuredPatch): string | undefined {
  const name = p.newFileName && p.newFileName !== '/dev/null' ? p.newFileName : p.oldFileName;
  return name?.replace(/^[ab]\//, '');
}

function hunkName(p: StructuredPatch, i: number): string {
  const h = p.hunks[i]!;
  return `hunk ${i + 1} (@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@)`;
}

/** Why one file's diff does not apply: already applied (its reverse applies), or its first bad hunk. */
function notApplying(patchName: string, rel: string, source: string, p: StructuredPatch): Error {
  if (applyPatch(source, reversePatch(p)) !== false) return new PatchAlreadyAppliedError(patchName, rel);
  const bad = p.hunks.findIndex((h) => applyPatch(source, { ...p, hunks: [h] }) === false);
  return new PatchApplyError(patchName, rel, hunkName(p, Math.max(0, bad)));
}

/**
 * What a unified diff makes of the tree at root, file by file, without
 * writing anything: every hunk is checked before any file changes, so a
 * patch that fails on its second file leaves no half-patched copy behind.
 * Names the first hunk that fails, or says the patch is already applied.
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
    if (patched === false) throw notApplying(patchName, rel, source, p);
    out.set(rel, patched);
  }
  return out;
}

/** Apply a unified diff to the tree at root; name the first hunk that fails. */
export function applyTo(root: string, patchText: string, patchName: string): void {
  for (const [rel, text] of patchedFiles(root, patchText, patchName)) writeFileSync(join(root, rel), text);
}

/** Throw PatchApplyError/PatchFormatError/PatchAlreadyAppliedError unless the patch applies to the project; reads only. */
export function checkApplies(patchText: string, patchName: string): void {
  patchedFiles(PROJECT_ROOT, patchText, patchName);
}
