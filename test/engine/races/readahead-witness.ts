// The hand-written witness of known-bad patch 014 (eb085574a752, "mm, swap:
// fix race between swapoff and some swap operations"): MADV_WILLNEED's
// read_swap_cache_async() without get_swap_device(). The reader reads the
// swap PTE under mmap_read_lock and parks at its first preemption point;
// swapoff (whose unuse also takes mmap_read_lock, so nothing excludes the
// two) brings the page back and, with no get_swap_device() user to wait for,
// frees the swap_map. The reader then reads si->swap_map: NULL, as in the
// kernel's swapoff. Used with the clean model (test/engine/races/swap-readahead.spec.ts) and with the
// patched one (test/corpus/known-bad-014-witness.spec.ts), so it takes the
// modules to run with.
import assert from 'node:assert/strict';
import type { Program } from '../../../engine/program/ops.ts';
import { SWAPPED_OUT_R0, type Engine, type Props, type Runner, type WitnessResult } from './witness.ts';

/** The unpinned reader's first preemption point (the clean reader has pinned the device by then). */
export const PARK = 'read_swap_cache_async: filemap_get_folio';

/**
 * P0.T0 swaps a page out; P0.T1 asks for it back (WILLNEED); kswapd (K0)
 * swaps the device off. By default each task runs to its end in id order.
 */
export const readaheadWitness: Program = {
  processes: [
    {
      threads: [
        [...SWAPPED_OUT_R0],
        [{ op: 'madvise', region: 0, page: 0, pages: 1, advice: 'WILLNEED' }],
      ],
    },
  ],
  kthreads: [[{ op: 'swapoff', dev: 0 }]],
};

/** One switch: when P0.T1 is parked at PARK, K0 runs (to its end, or until it blocks). */
export function parkReader(engine: Engine, runner: Runner, props: Props): { r: WitnessResult; parked: boolean } {
  let parked = false;
  const strategy = {
    nextTask(runnable: readonly number[], current: number, _step: number, sleeping: boolean): number {
      const ex = engine.this_kernel().sched;
      const t = current >= 0 ? ex.tasks[current] : undefined;
      if (!parked && t?.name === 'P0.T1' && t.state === 'runnable' && t.label === PARK) {
        parked = true;
        const k0 = ex.tasks.find((u) => u.name === 'K0')!;
        assert.ok(runnable.includes(k0.id), 'K0 can run while the reader is parked');
        return k0.id;
      }
      return engine.defaultChoice(runnable, current, sleeping);
    },
    describe: () => 'park the WILLNEED reader',
  };
  return { r: runner.runCase(readaheadWitness, strategy, { properties: props.properties }), parked };
}


