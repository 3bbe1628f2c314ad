import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { Prng } from '../../../engine/sched/prng.ts';
import { programArb, resolveProgramOptions } from '../../../generators/index.ts';
import { MAX_MUTANT_OPS, ProgramMutator } from '../../../runner/mutate/program.ts';

const threadsOf = (p: Program): (readonly Op[])[] => [...p.processes.flatMap((x) => x.threads), ...(p.kthreads ?? [])];
const ops = (p: Program): Op[] => threadsOf(p).flat();

describe('runner/mutate: program mutations', () => {
  const options = { ops: ['mmap', 'munmap', 'read', 'write', 'fork', 'reclaim', 'swapon', 'swapoff'] as const };
  const mutator = new ProgramMutator(resolveProgramOptions(options));

  it('a mutant is a program of the allowed ops, threads non-empty and bounded, writes numbered, the parents untouched', () => {
    fc.assert(
      fc.property(programArb(options), programArb(options), fc.nat(), (a, b, seed) => {
        const before = JSON.stringify([a, b]);
        const m = mutator.mutate(a, new Prng(seed), b);
        assert.equal(JSON.stringify([a, b]), before, 'a parent changed');
        assert.equal(m.processes.length, a.processes.length);
        for (const t of threadsOf(m)) {
          assert.ok(t.length >= 1 && t.length <= MAX_MUTANT_OPS, `a thread of ${t.length} ops`);
        }
        // A fork drawn for a one-process program is an exit (generators/ops.ts).
        const allowed = new Set<string>([...options.ops, 'exit', ...ops(a).map((o) => o.op), ...ops(b).map((o) => o.op)]);
        for (const op of ops(m)) assert.ok(allowed.has(op.op), `op ${op.op} not allowed`);
        const values = m.processes.flatMap((p) => p.threads.flat()).flatMap((op) => (op.op === 'write' ? [op.value] : []));
        assert.deepEqual(values, values.map((_, i) => i + 1), 'write values are not 1..n in program order');
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('mutants differ from their parent (insert, delete, duplicate, change, splice all happen)', () => {
    const p = fc.sample(programArb(options), { seed: 3, numRuns: 1 })[0]!;
    const rng = new Prng(5);
    const sizes = new Set<number>();
    let changed = 0;
    for (let i = 0; i < 200; i++) {
      const m = mutator.mutate(p, rng, p);
      sizes.add(ops(m).length - ops(p).length);
      if (JSON.stringify(m) !== JSON.stringify(p)) changed++;
    }
    assert.ok(changed > 150, `only ${changed} of 200 mutants differ`);
    assert.ok(sizes.has(1) && sizes.has(-1) && sizes.has(0), `op count deltas seen: ${[...sizes].join(', ')}`);
  });
});
