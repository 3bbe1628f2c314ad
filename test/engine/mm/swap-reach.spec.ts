import assert from 'node:assert/strict';
import { makeStrategy } from '../../../generators/index.ts';
import { properties } from '../../../properties/index.ts';
import { caseArb, generateCase, runCase } from '../../../runner/index.ts';

/**
 * The default campaign's draws reach the paths of swap-refs: a counter over
 * the plain campaign's first runs of seed 1 (the guided campaign starts from
 * the same draws, then mutates what reached new branches). Read from each run:
 * - do_swap_page's skip-swapcache path on a SWP_SYNCHRONOUS_IO device: a slot
 *   read right after swapcache_prepare() let go of si->lock (through the swap
 *   cache, add_to_swap_cache()'s i_pages lock comes in between);
 * - MADV_FREE over a mapped range, and FOLL_GET references taken.
 * Reads through a reference (or a pin) are rare in these first draws: the
 * handle must be taken and read in one process (0 of the first 600 runs read a pin).
 */
/** Draws counted: the default mix has grown (THP, memfd, stacks), and each path's share with it shrinks. */
const RUNS = 1500;

describe('engine/mm: the default campaign reaches the swap-refs paths', function () {
  this.timeout(300_000);

  it(`skip-swapcache swap-ins, MADV_FREE and FOLL_GET references happen in the first ${RUNS} default runs`, () => {
    const arb = caseArb({});
    const seen = { skipSwapcache: 0, madvFree: 0, get: 0 };
    for (let i = 0; i < RUNS; i++) {
      const input = generateCase(arb, 1, i);
      const r = runCase(input.program, makeStrategy(input.schedule), { properties, trace: true });
      const byTask = new Map<string, string[]>();
      for (const line of r.trace!.toText().split('\n')) {
        const [, task, ...rest] = line.split(' ');
        if (!task) continue;
        const prev = byTask.get(task)?.at(-1);
        const label = rest.join(' ');
        if (label === 'swap_read_folio: read slot' && prev?.startsWith('spin_unlock(si->lock(')) seen.skipSwapcache++;
        (byTask.get(task) ?? byTask.set(task, []).get(task)!).push(label);
      }
      const recs = r.history.records;
      if (recs.some((x) => x.kind === 'madvise' && x.op.advice === 'FREE' && x.result === 0)) seen.madvFree++;
      if (recs.some((x) => x.kind === 'get' && x.result === 0)) seen.get++;
    }
    assert.ok(seen.skipSwapcache >= 2, `skip-swapcache swap-ins in ${seen.skipSwapcache} runs of ${RUNS} (${JSON.stringify(seen)})`);
    assert.ok(seen.madvFree >= 2 && seen.get >= 5, JSON.stringify(seen));
  });
});
