// Reclaim against exec's copy_strings(): the argument page that
// get_arg_page() returned is written after reclaim may have unmapped it,
// and nothing dirties it again. pageout() must keep a folio someone else
// holds (is_page_cache_freeable()), or the write is lost with the clean copy.
import assert from 'node:assert/strict';
import * as engine from '../../../engine/index.ts';
import type { Program } from '../../../engine/program/ops.ts';
import { properties } from '../../../properties/index.ts';
import { runCase } from '../../../runner/index.ts';

/** The label exec's copy_strings() yields at before it writes an argument into its page. */
const COPY = 'copy_strings: copy argument';

const program: Program = {
  processes: [
    {
      threads: [
        [
          { op: 'swapon', dev: 0, slots: 8 },
          { op: 'exec', region: 0, args: 1 },
          // Reclaim the argument page again after exec: a clean copy would be dropped, not written.
          { op: 'reclaim', victim: 0 },
          { op: 'read', region: 0, page: 0, word: 0 },
        ],
      ],
    },
  ],
  kthreads: [[{ op: 'reclaim', victim: 0 }]],
};

/** Park P0.T0 at its first COPY and let kswapd (K0) reclaim the argument page it holds. */
function parkCopy(): { r: ReturnType<typeof runCase>; parked: boolean } {
  let parked = false;
  const strategy: engine.Strategy = {
    nextTask(runnable, current, _step, sleeping) {
      const ex = engine.this_kernel().sched;
      const t = current >= 0 ? ex.tasks[current] : undefined;
      if (!parked && t?.name === 'P0.T0' && t.state === 'runnable' && t.label === COPY) {
        parked = true;
        return ex.tasks.find((u) => u.name === 'K0')!.id;
      }
      return engine.defaultChoice(runnable, current, sleeping);
    },
    describe: () => 'park exec at copy_strings',
  };
  return { r: runCase(program, strategy, { properties }), parked };
}

describe('engine/races/exec-reclaim: reclaim against exec writing its arguments (vmscan.ts pageout, is_page_cache_freeable)', () => {
  it('kswapd unmaps the argument page exec holds but does not write it out; the argument survives a later reclaim and swap-in', () => {
    const { r, parked } = parkCopy();
    assert.ok(parked, 'exec reached copy_strings');
    assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
    const [kswapd] = r.history.records.filter((x) => x.thread === 'K0');
    assert.equal(kswapd!.result, 0, 'kswapd kept the folio (PAGE_KEEP)');
    const read = r.history.records.find((x) => x.kind === 'read')!;
    assert.equal(read.result, 0);
    assert.ok(read.value !== 0, `the argument was read back: ${read.value}`);
  });
});
