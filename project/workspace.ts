import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadError } from './load-error.ts';
import { applyTo } from './patch-apply.ts';
import { PROJECT_ROOT } from './root.ts';

/** What a patched copy needs: the model, the properties, and what runs them. */
const COPIED = ['engine', 'properties', 'generators', 'runner', 'package.json'];

/**
 * A temporary copy of the project with a patch applied. The working tree is
 * never touched: the patch lands in the copy, and callers import the copy's
 * modules (import()) to run campaigns against the patched model.
 */
export class Workspace {
  private constructor(
    readonly root: string,
    private readonly patchName: string,
  ) {}

  /** `from`: the tree to copy (default this checkout; a traced copy of a patched copy gives another). */
  static create(patchText: string | undefined, patchName = 'patch', from = PROJECT_ROOT): Workspace {
    const root = mkdtempSync(join(tmpdir(), 'mmfuzz-ws-'));
    try {
      for (const entry of COPIED) cpSync(join(from, entry), join(root, entry), { recursive: true });
      symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
      if (patchText !== undefined) applyTo(root, patchText, patchName);
    } catch (e) {
      rmSync(root, { recursive: true, force: true });
      throw e;
    }
    return new Workspace(root, patchName);
  }

  /** import() a module of the copy, e.g. 'runner/index.ts'; a copy that does not load is PatchLoadError. */
  async import<T>(rel: string): Promise<T> {
    try {
      return (await import(pathToFileURL(join(this.root, rel)).href)) as T;
    } catch (e) {
      throw loadError(e, this.root, this.patchName);
    }
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
