import { readFileSync } from 'node:fs';
import { PROJECT_ROOT } from '../project/root.ts';
import { Workspace } from '../project/workspace.ts';
import * as props from '../properties/index.ts';
import * as runner from '../runner/index.ts';
import { resolvePatch } from './patch-path.ts';

export type RunnerModule = typeof runner;
export type PropertiesModule = typeof props;

/**
 * The model a repro runs on: this checkout, or a patched copy of it. The
 * runner and the properties must come from the same copy as the engine:
 * a property checking a patched engine with the clean engine's modules would
 * look at the wrong objects.
 */
export interface Model {
  readonly root: string;
  readonly runner: RunnerModule;
  readonly props: PropertiesModule;
  dispose(): void;
}

export const cleanModel: Model = { root: PROJECT_ROOT, runner, props, dispose: () => {} };

/** A Workspace with the patch applied; PatchApplyError/PatchFormatError when it does not apply. */
export async function patchedModel(patchFile: string, name = patchFile): Promise<Model> {
  const ws = Workspace.create(readFileSync(patchFile, 'utf8'), name);
  try {
    const [r, p] = await Promise.all([ws.import<RunnerModule>('runner/index.ts'), ws.import<PropertiesModule>('properties/index.ts')]);
    return { root: ws.root, runner: r, props: p, dispose: () => ws.dispose() };
  } catch (e) {
    ws.dispose();
    throw e;
  }
}

/** One model per patch, for commands that replay many entries (prune). */
export class ModelCache {
  private readonly models = new Map<string, Promise<Model>>();

  get(patch: string | undefined): Promise<Model> {
    if (patch === undefined) return Promise.resolve(cleanModel);
    let m = this.models.get(patch);
    if (!m) {
      m = patchedModel(resolvePatch(patch), patch);
      this.models.set(patch, m);
    }
    return m;
  }

  async dispose(): Promise<void> {
    for (const m of this.models.values()) (await m.catch(() => undefined))?.dispose();
    this.models.clear();
  }
}
