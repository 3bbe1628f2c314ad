import assert from 'node:assert/strict';
import { valueOf } from '../../../engine/program/history.ts';
import fc from 'fast-check';
import { Replay } from '../../../engine/index.ts';
import { runProgram, type RunResult } from '../../../engine/program/executor.ts';
import type { Program } from '../../../engine/program/ops.ts';
import { programArb } from '../../../generators/index.ts';
import { hooksFor, properties } from '../../../properties/index.ts';

function sequential(p: Program, faultMode: 'vma-lock' | 'spf'): RunResult {
  return runProgram({ ...p, faultMode }, { strategy: new Replay([]), hooks: hooksFor(properties), maxSteps: 20_000 });
}

/** What user space saw: each op's result and value, in program order. */
function seen(r: RunResult): string[] {
  return r.history.records.map((x) => `${x.thread}#${x.index} ${x.op.op}=${x.result}${valueOf(x) === undefined ? '' : `/${valueOf(x)}`}`);
}

/**
 * A differential oracle: how a fault is handled (per-VMA lock, or
 * speculatively without any lock) is invisible to user space. Run one after
 * the other (no interleaving), every program must see the same results in
 * both modes. A mutant that makes the speculative path (or the per-VMA lock
 * path) map the wrong thing, refuse what it should allow, or allow what it
 * should refuse, shows up as a difference.
 */
const r0 = (pages: number, prot: 'rw' | 'r' | 'none' = 'rw') => ({ op: 'mmap' as const, region: 0, pages, prot });
const rd = (page: number, word = 0) => ({ op: 'read' as const, region: 0, page, word });
const wr = (page: number, value: number, word = 0) => ({ op: 'write' as const, region: 0, page, word, value });
const mprotect = (page: number, pages: number, prot: 'rw' | 'r' | 'none') => ({ op: 'mprotect' as const, region: 0, page, pages, prot });

/** Hand-written: the accesses the generator draws too rarely to rely on. */
const HAND: Program[] = [
  { processes: [{ threads: [[r0(2, 'r'), rd(0), wr(0, 1), rd(1), wr(1, 2), rd(0)]] }] },
  { processes: [{ threads: [[r0(2), wr(0, 1), mprotect(0, 2, 'r'), wr(0, 2), rd(0), mprotect(0, 2, 'rw'), wr(0, 3), wr(1, 4), rd(0), rd(1)]] }] },
  { processes: [{ threads: [[r0(2), rd(0), mprotect(0, 1, 'r'), rd(0), wr(0, 5), mprotect(0, 1, 'rw'), wr(0, 6), rd(0)]] }] },
  { processes: [{ threads: [[r0(1), wr(0, 1), { op: 'fork', child: 1 }, rd(0), wr(0, 2), rd(0)]] }, { threads: [[rd(0), wr(0, 3), rd(0)]] }] },
  { processes: [{ threads: [[r0(2), wr(0, 1), { op: 'madvise', region: 0, page: 0, pages: 2, advice: 'DONTNEED' }, rd(0), wr(1, 2), rd(1)]] }] },
  { processes: [{ threads: [[r0(2, 'none'), rd(0), wr(0, 1), mprotect(0, 2, 'rw'), wr(0, 2), rd(0)]] }] },
];

describe('engine/mm/fault: the fault mode is invisible to a sequential program', function () {
  this.timeout(60_000);
  it('hand-written accesses see the same results under vma-lock and spf', () => {
    for (const [i, p] of HAND.entries()) {
      const a = sequential(p, 'vma-lock');
      const b = sequential(p, 'spf');
      assert.equal(a.violation, undefined, `${i}: ${a.violation?.message}`);
      assert.equal(b.violation, undefined, `${i}: ${b.violation?.message}`);
      assert.deepEqual(seen(b), seen(a), `program ${i}`);
    }
  });

  it('200 generated programs see the same results under vma-lock and spf', () => {
    const programs = fc.sample(programArb({ ops: ['mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'read', 'write', 'fork', 'exit', 'pin', 'pinRead', 'unpin'] }), { seed: 11, numRuns: 200 });
    let differ = 0;
    for (const [i, p] of programs.entries()) {
      const a = sequential(p, 'vma-lock');
      const b = sequential(p, 'spf');
      assert.equal(a.violation, undefined, `program ${i} (vma-lock): ${a.violation?.property}: ${a.violation?.message}`);
      assert.equal(b.violation, undefined, `program ${i} (spf): ${b.violation?.property}: ${b.violation?.message}`);
      assert.deepEqual(seen(b), seen(a), `program ${i}`);
      if (a.steps !== b.steps) differ++;
    }
    assert.ok(differ > 50, `the two modes took different paths in only ${differ} programs`);
  });
});
