import assert from 'node:assert/strict';
import fc from 'fast-check';
import { programArb } from '../../generators/index.ts';

describe('generators: the vma-race mix', () => {
  it('puts VMA writers in the first thread and accesses, pins included when asked, in the others', () => {
    const programs = fc.sample(programArb({ vmaRace: true, ops: ['fork', 'write', 'pin'], maxProcesses: 2, maxPages: 1 }), { numRuns: 200, seed: 3 });
    const others = new Set<string>();
    for (const p of programs) {
      const [first, ...rest] = p.processes[0]!.threads;
      assert.deepEqual(first!.slice(0, 2).map((op) => op.op), ['mmap', 'write'], 'map and touch first');
      for (const t of [...rest, ...p.processes.slice(1).flatMap((q) => q.threads)]) for (const op of t) others.add(op.op);
    }
    assert.deepEqual([...others].sort(), ['pin', 'write'], 'the other threads access and pin, never fork');
  });

  it('keeps to reads and writes when no pin op is named', () => {
    const programs = fc.sample(programArb({ vmaRace: true, ops: ['munmap', 'read', 'write'] }), { numRuns: 100, seed: 4 });
    for (const p of programs) for (const t of p.processes[0]!.threads.slice(1)) for (const op of t) assert.ok(op.op === 'read' || op.op === 'write', op.op);
  });
});
