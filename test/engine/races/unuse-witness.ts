// The hand-written witness of known-bad patch 013: swapoff's unuse_mm()
// walking an mm's VMAs without mmap_read_lock. Swapoff (K0) parks inside
// unuse_vma() at its first preemption point, holding a pointer to the VMA;
// P0.T1 munmaps that VMA (detach, zap, free_pgtables, remove_vma: call_rcu)
// and the RCU grace-period kthread frees it, since swapoff is no RCU reader.
// Swapoff then reads vma->vm_mm: a use-after-free. With the lock, munmap's
// mmap_write_lock waits for unuse to finish. Used with the clean model
// (test/engine/races/swapoff-unuse.spec.ts) and with the patched one
// (test/corpus/known-bad-013-witness.spec.ts), so it takes the modules to run with.
import type { Program } from '../../../engine/program/ops.ts';
import { SWAPPED_OUT_R0, type Engine, type Props, type Runner, type WitnessResult } from './witness.ts';

/** Swapoff's first preemption point inside unuse_vma(): it holds the VMA from here on. */
export const PARK = 'unuse_pmd_range: read pmd';

/**
 * P0.T0 swaps a page of r0 out; P0.T1 unmaps r0; kswapd (K0) swaps the
 * device off. By default each task runs to its end in id order.
 */
export const unuseWitness: Program = {
  processes: [
    {
      threads: [
        [...SWAPPED_OUT_R0],
        [{ op: 'munmap', region: 0, page: 0, pages: 1 }],
      ],
    },
  ],
  kthreads: [[{ op: 'swapoff', dev: 0 }]],
};

/**
 * P0.T1 (munmap) is held back until K0 reaches PARK; then K0 is held there
 * while anything else can run (munmap, and the RCU kthread's free of the
 * VMA), and resumes only when it is the last runnable task.
 */
export function parkUnuse(engine: Engine, runner: Runner, props: Props): { r: WitnessResult; parked: boolean; munmapAtResume: string | undefined } {
  let parked = false;
  /** P0.T1's state (and what it waits on) when K0 left PARK. */
  let munmapAtResume: string | undefined;
  const strategy = {
    nextTask(runnable: readonly number[], current: number, _step: number, sleeping: boolean): number {
      const ex = engine.this_kernel().sched;
      const cur = current >= 0 ? ex.tasks[current] : undefined;
      if (!parked && cur?.name === 'K0' && cur.state === 'runnable' && cur.label === PARK) parked = true;
      const held = ex.tasks.find((t) => t.name === (parked ? 'K0' : 'P0.T1'))?.id;
      const others = runnable.filter((id) => id !== held);
      const next = engine.defaultChoice(others.length ? others : runnable, current, sleeping);
      if (parked && munmapAtResume === undefined && next === held) {
        const t1 = ex.tasks.find((t) => t.name === 'P0.T1')!;
        munmapAtResume = t1.waitingOn ? `${t1.state} on ${t1.waitingOn.describe()}` : t1.state;
      }
      return next;
    },
    describe: () => 'park swapoff in unuse_vma',
  };
  const r = runner.runCase(unuseWitness, strategy, { properties: props.properties });
  return { r, parked, munmapAtResume };
}


