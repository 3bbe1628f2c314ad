import assert from 'node:assert/strict';
import { Pct, RandomWalk, Replay } from '../../../engine/index.ts';
import type { RunResult } from '../../../engine/program/executor.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { describeViolation, reads, runChecked } from '../../helpers/run.ts';
import { rec } from '../../helpers/scenario.ts';

/** Like helpers/scenario's interleaving(), with the trace kept: the first clean run that has the order wanted. */
function interleaving(program: Program, wanted: (r: RunResult) => boolean, tries = 400): RunResult {
  for (let seed = 0; seed < tries; seed++) {
    const strategy = seed % 2 ? new Pct({ seed, depth: 3, maxSteps: 300 }) : new RandomWalk(seed);
    const r = runChecked(program, strategy, true);
    assert.equal(r.violation, undefined, `seed ${seed}: ${describeViolation(r)}`);
    if (wanted(r)) return r;
  }
  assert.fail(`no interleaving in ${tries} tries had the order the scenario needs`);
}

const zram: Op = { op: 'swapon', dev: 0, slots: 4, sync: true };
const mmap: Op = { op: 'mmap', region: 0, pages: 1, prot: 'rw' };
const w = (value: number): Op => ({ op: 'write', region: 0, page: 0, word: 0, value });
const r: Op = { op: 'read', region: 0, page: 0, word: 0 };
const reclaim: Op = { op: 'reclaim', victim: 0 };

/** The trace lines of `task` between steps [from, to). */
const lines = (res: RunResult, task: string, from = 0, to = Infinity): string[] =>
  res.trace!.toText().split('\n').filter((l) => {
    const [step, t] = l.split(' ');
    return t === task && Number(step) >= from && Number(step) < to;
  });

describe('engine/mm: synchronous swap devices (SWP_SYNCHRONOUS_IO)', () => {
  it('a swap-in from a synchronous device skips the swap cache and frees the slot', () => {
    const res = runChecked({ processes: [{ threads: [[zram, mmap, w(7), reclaim, r, reclaim, r, { op: 'swapoff', dev: 0 }]] }] }, new Replay([]), true);
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.deepEqual(reads(res, 'P0.T0'), [7, 7]);
    const fault = rec(res, 'P0.T0', 4);
    const inFault = lines(res, 'P0.T0', fault.start, fault.end);
    assert.ok(inFault.some((l) => l.includes('swap_read_folio')), 'the read faulted the page in from the slot');
    assert.ok(!inFault.some((l) => l.includes('i_pages(')), 'the swap cache was not touched');
    // The second reclaim found slot 0 free again (swapcache_clear freed it), and swapoff had nothing left.
    assert.equal(rec(res, 'P0.T0', 5).result, 1);
    assert.equal(rec(res, 'P0.T0', 7).result, 0);
  });

  it('the swap cache device still reads through the swap cache', () => {
    const res = runChecked({ processes: [{ threads: [[{ ...zram, sync: false }, mmap, w(7), reclaim, r]] }] }, new Replay([]), true);
    const fault = rec(res, 'P0.T0', 4);
    assert.ok(lines(res, 'P0.T0', fault.start, fault.end).some((l) => l.includes('i_pages(')));
    assert.deepEqual(reads(res, 'P0.T0'), [7]);
  });

  it('swapoff waits for a skip-swapcache fault that holds the slot, then finishes', () => {
    const p: Program = { processes: [{ threads: [[zram, mmap, w(7), reclaim, r, r], [{ op: 'swapoff', dev: 0 }]] }] };
    const res = interleaving(p, (x) => {
      const off = rec(x, 'P0.T1', 0);
      const fault = rec(x, 'P0.T0', 4);
      return off.result === 0 && off.start < fault.start && fault.end < off.end && lines(x, 'P0.T0', fault.start, fault.end).some((l) => l.includes('swap_read_folio'));
    });
    assert.deepEqual(reads(res, 'P0.T0'), [7, 7]);
  });
});
