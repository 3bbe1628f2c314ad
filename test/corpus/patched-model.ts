// A witness's patched half: the model's modules from a copy with a known-bad patch applied.
import { readFileSync } from 'node:fs';
import { Workspace } from '../../project/workspace.ts';
import type { Engine, Model, Props, Runner } from '../engine/races/witness.ts';

/** Run `body` on a copy of the model with mutation/patches/`patch` applied. */
export async function withPatchedModel<T>(patch: string, body: (m: Model) => T): Promise<T> {
  const ws = Workspace.create(readFileSync(`mutation/patches/${patch}`, 'utf8'), patch);
  try {
    const [engine, runner, props] = await Promise.all([ws.import<Engine>('engine/index.ts'), ws.import<Runner>('runner/index.ts'), ws.import<Props>('properties/index.ts')]);
    return body({ engine, runner, props });
  } finally {
    ws.dispose();
  }
}
