import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Program } from '../../engine/program/ops.ts';
import { programArb } from '../../generators/index.ts';

/** The ops of every thread but process 0's first: the accessors. */
const accessorOps = (p: Program): string[] => [...p.processes[0]!.threads.slice(1), ...p.processes.slice(1).flatMap((q) => q.threads)].flat().map((op) => op.op);

describe('generators: the vma-race mix', () => {
  const withPins = programArb({ vmaRace: true, ops: ['fork', 'write', 'pin'], maxProcesses: 2, maxPages: 1 });

  it('puts VMA writers in the first thread and accesses, pins included when asked, in the others', () => {
    fc.assert(
      fc.property(withPins, (p) => {
        assert.deepEqual(p.processes[0]!.threads[0]!.slice(0, 2).map((op) => op.op), ['mmap', 'write'], 'map and touch first');
        for (const op of accessorOps(p)) assert.ok(op === 'pin' || op === 'write', `an accessor drew ${op}`);
      }),
    );
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const others = new Set(fc.sample(withPins, { numRuns: 200, seed }).flatMap(accessorOps));
        assert.deepEqual([...others].sort(), ['pin', 'write'], 'the other threads access and pin, never fork');
      }),
      { numRuns: 10 },
    );
  });

  it('keeps to reads and writes when no pin op is named', () => {
    fc.assert(
      fc.property(programArb({ vmaRace: true, ops: ['munmap', 'read', 'write'] }), (p) => {
        for (const t of p.processes[0]!.threads.slice(1)) for (const op of t) assert.ok(op.op === 'read' || op.op === 'write', op.op);
      }),
    );
  });

  it('swarms: each program its own subset of the writers, and every writer is drawn alone', () => {
    const writers = (p: Program): string[] => [...new Set(p.processes[0]!.threads[0]!.slice(2).map((op) => op.op).filter((k) => k !== 'read' && k !== 'write'))];
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const ps = fc.sample(programArb({ vmaRace: true, ops: ['munmap', 'mprotect', 'fork', 'read', 'write'] }), { numRuns: 300, seed });
        const alone = new Set(ps.map(writers).filter((w) => w.length === 1).map((w) => w[0]));
        assert.deepEqual([...alone].sort(), ['fork', 'mprotect', 'munmap']);
      }),
      { numRuns: 5 },
    );
  });
});

