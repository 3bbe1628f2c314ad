// Toy kernels for engine tests: shared counters, locks, and a run helper.
import { Kernel, RandomWalk, type ExecutionResult, type KGen, type Strategy } from '../../engine/index.ts';

export interface ToyRun {
  result: ExecutionResult;
}

/** Run `bodies` as tasks under `strategy`; `check` may throw at the end. */
export function runToy(
  strategy: Strategy,
  bodies: Record<string, () => KGen<unknown>>,
  opts: { trace?: boolean; maxSteps?: number } = {},
): ExecutionResult {
  const k = new Kernel({ strategy, trace: opts.trace ?? true, maxSteps: opts.maxSteps });
  for (const [name, body] of Object.entries(bodies)) k.spawn(name, body);
  return k.run();
}

export function seeds(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

export const rw = (seed: number): RandomWalk => new RandomWalk(seed);
