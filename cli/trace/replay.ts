import type { Schedule } from '../../engine/index.ts';
import type { RunResult } from '../../engine/program/executor.ts';
import type { Program } from '../../engine/program/ops.ts';
import type { Property } from '../../properties/index.ts';
import { KernelStacks, type StepContext } from './kstack.ts';
import type { TracedModel } from './model.ts';
import { KSTACK_GLOBAL } from './kstack-global.ts';

/**
 * Replay a repro on a traced model, in debug mode, with the kernel function
 * stack of every step on its trace entry (TraceEntry.stack). The bookkeeping
 * runs before the properties' afterStep, so it sees only the task's own calls.
 */
export function tracedReplay(m: TracedModel, program: Program, schedule: Schedule, properties: readonly Property[]): RunResult {
  const ks = new KernelStacks();
  const hooks = m.props.hooksFor(properties);
  const g = globalThis as Record<string, unknown>;
  g[KSTACK_GLOBAL] = ks;
  try {
    const r = m.executor.runProgram(program, {
      strategy: new m.engine.Replay(schedule),
      maxSteps: m.runner.CAMPAIGN_MAX_STEPS,
      trace: true,
      debug: true,
      hooks: {
        afterStep: (ctx) => {
          ks.afterStep(ctx as unknown as StepContext);
          hooks.afterStep?.(ctx);
        },
        afterOp: hooks.afterOp,
        atEnd: hooks.atEnd,
      },
    });
    ks.annotate(r.trace!);
    return r;
  } finally {
    delete g[KSTACK_GLOBAL];
  }
}
