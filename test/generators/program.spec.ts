import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Op, Program } from '../../engine/program/ops.ts';
import { programArb } from '../../generators/index.ts';

const firstThread = (p: Program): readonly Op[] => p.processes[0]!.threads[0]!;
const opCount = (p: Program): number => p.processes[0]!.threads.flat().length + (p.kthreads ?? []).flat().length;

/**
 * Every program the shrinker looks at while it shrinks one drawn from `arb`
 * (the property fails while process 0 has two threads, so the shrinker both
 * drops ops and tries dropping the thread).
 */
function shrinkCandidates(arb: fc.Arbitrary<Program>, seed: number): { first: Program; seen: Program[] } {
  const seen: Program[] = [];
  const r = fc.check(
    fc.property(arb, (p) => {
      seen.push(p);
      return seen.length > 400 || p.processes[0]!.threads.length < 2; // at most 400 looks

    }),
    { seed, numRuns: 200 },
  );
  const first = seen[(r.numRuns || 1) - 1]!;
  return { first, seen: seen.slice(r.numRuns) };
}

describe('generators/program: programArb', () => {
  // Swarm off and one process: the kinds and the process count are constants,
  // so a shrink only ever drops or shrinks drawn ops (dropping thread 0 gives
  // thread 1 the prelude, in place of thread 0's ops): it never adds any.
  const preludes = programArb({ ops: ['mmap', 'read', 'write', 'reclaim', 'swapon', 'hugetlbMmap', 'fork'], swarm: false, maxProcesses: 1, maxThreads: 2 });

  it('is pure: shrinking a program never gives process 0 its prelude twice (the drawn arrays are not changed)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const { first, seen } = shrinkCandidates(preludes, seed);
        if (first.processes[0]!.threads.length < 2) return; // nothing to shrink
        assert.ok(seen.length > 0, 'the shrinker ran');
        const n = opCount(first);
        for (const p of seen) assert.ok(opCount(p) <= n, `a shrink grew the program from ${n} to ${opCount(p)} ops; P0.T0 starts ${JSON.stringify(firstThread(p).slice(0, 6))}`);
        assert.equal(firstThread(first).filter((op) => op.op === 'swapon' && op.slots === 8 && op.dev === 0).length >= 1, true, 'reclaim on: a swap device first');
      }),
      { numRuns: 20, endOnFailure: true }, // a seed has nothing to shrink
    );
  });

  it('share file 0 from the start: r0 maps it and P1 is forked at once', () => {
    fc.assert(
      fc.property(programArb({ ops: ['hugetlbMmap', 'read', 'write', 'fork'], swarm: false, maxProcesses: 2 }), (p) => {
        const first = p.processes[0]!.threads[0]!;
        assert.deepEqual(first[0], { op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 2, prot: 'rw' });
        if (p.processes.length > 1) assert.deepEqual(first[1], { op: 'fork', child: 1 });
      }),
      { numRuns: 50 },
    );
  });

  it('a program that may swap starts with a swap device, then a mapping', () => {
    fc.assert(
      fc.property(programArb({ ops: ['mmap', 'read', 'write', 'reclaim', 'swapon', 'fork'], swarm: false }), (p) => {
        const { sync, ...device } = firstThread(p)[0] as Extract<Op, { op: 'swapon' }>;
        assert.deepEqual(device, { op: 'swapon', dev: 0, slots: 8 });
        assert.ok(sync === undefined || sync === true, 'sync is drawn: present only when the device is synchronous');
        assert.equal(firstThread(p)[1]!.op, 'mmap');
      }),
    );
  });

  it('every write stores its own value, 1, 2, ... in program order', () => {
    fc.assert(
      fc.property(programArb(), (p) => {
        const values = [...p.processes.flatMap((q) => q.threads), ...(p.kthreads ?? [])].flat().flatMap((op) => (op.op === 'write' || op.op === 'pinWrite' ? [op.value] : []));
        assert.deepEqual(values, values.map((_, i) => i + 1));
      }),
    );
  });
});
