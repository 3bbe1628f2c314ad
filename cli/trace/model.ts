import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../../corpus/model.ts';
import { resolvePatch } from '../../corpus/patch-path.ts';
import { Workspace } from '../../project/workspace.ts';

type Executor = typeof import('../../engine/program/executor.ts');
type Engine = typeof import('../../engine/index.ts');

/** The model's kernel-path directories: their generator functions are the stack. */
const KERNEL_DIRS = ['engine/mm', 'engine/kernel', 'engine/fs'];

/** A Model whose kernel paths report their function stacks, and the engine modules to run it by hand. */
export interface TracedModel extends Model {
  readonly executor: Executor;
  readonly engine: Engine;
}

/**
 * A copy of the model (patched, for an entry found with --patch) whose
 * generator functions are wrapped by transform.ts. Only replays and reports
 * load it: the campaign runs the model as written, so it pays nothing.
 * `from` copies another tree (a campaign thread's patched copy) as it is.
 */
export async function tracedModel(patch: string | undefined, from?: string): Promise<TracedModel> {
  const ws = Workspace.create(patch === undefined ? undefined : readFileSync(resolvePatch(patch), 'utf8'), patch, from);
  try {
    // Loaded here, not at the top: the TypeScript compiler costs a CLI start about a CPU-second.
    const { wrapGenerators } = await import('./transform.ts');
    for (const dir of KERNEL_DIRS) {
      for (const name of readdirSync(join(ws.root, dir)).filter((n) => n.endsWith('.ts'))) {
        const file = join(ws.root, dir, name);
        writeFileSync(file, wrapGenerators(readFileSync(file, 'utf8'), name));
      }
    }
    const [runner, props, executor, engine] = await Promise.all([
      ws.import<Model['runner']>('runner/index.ts'),
      ws.import<Model['props']>('properties/index.ts'),
      ws.import<Executor>('engine/program/executor.ts'),
      ws.import<Engine>('engine/index.ts'),
    ]);
    return { root: ws.root, runner, props, executor, engine, dispose: () => ws.dispose() };
  } catch (e) {
    ws.dispose();
    throw e;
  }
}
