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
 * handle must be taken and read in one process (0 of 600 runs read a pin).
 * The counts are of runs among the first 3,000 draws, not of a share of
 * them, so that a wider mix (THPs, memfds) does not starve them: only the
 * draws that could reach a path are run (a SWP_SYNCHRONOUS_IO device for the
 * skip-swapcache swap-in, about one draw in 450 reaches it; a MADV_FREE op;
 * a FOLL_GET op).
 */
describe('engine/mm: the default campaign reaches the swap-refs paths', function () {
  this.timeout(300_000);

  it('skip-swapcache swap-ins, MADV_FREE and FOLL_GET references happen in the first 3,000 default draws', () => {
    const arb = caseArb({});
    const seen = { skipSwapcache: 0, madvFree: 0, get: 0 };
    for (let i = 0; i < 3000; i++) {
      const input = generateCase(arb, 1, i);
      const ops = input.program.processes.flatMap((p) => p.threads.flat());
      const sync = ops.some((op) => op.op === 'swapon' && op.sync === true);
      const free = ops.some((op) => op.op === 'madvise' && op.advice === 'FREE');
      const get = ops.some((op) => op.op === 'get');
      if (!sync && !free && !get) continue;
      const r = runCase(input.program, makeStrategy(input.schedule), { properties, trace: true });
      const byTask = new Map<string, string[]>();
      let skipped = false;
      for (const line of r.trace!.toText().split('\n')) {
        const [, task, ...rest] = line.split(' ');
        if (!task) continue;
        const prev = byTask.get(task)?.at(-1);
        const label = rest.join(' ');
        if (label === 'swap_read_folio: read slot' && prev?.startsWith('spin_unlock(si->lock(')) skipped = true;
        (byTask.get(task) ?? byTask.set(task, []).get(task)!).push(label);
      }
      if (skipped) seen.skipSwapcache++;
      const recs = r.history.records;
      if (recs.some((x) => x.kind === 'madvise' && x.op.advice === 'FREE' && x.result === 0)) seen.madvFree++;
      if (recs.some((x) => x.kind === 'get' && x.result === 0)) seen.get++;
    }
    assert.ok(seen.skipSwapcache >= 3, `skip-swapcache swap-ins in ${seen.skipSwapcache} runs of the first 3,000 draws (${JSON.stringify(seen)})`);
    assert.ok(seen.madvFree >= 5 && seen.get >= 5, JSON.stringify(seen));
  });
});
