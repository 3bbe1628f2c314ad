import fc from 'fast-check';
import type { Op, OpKind, Program } from '../engine/program/ops.ts';
import { opArb, OP_WEIGHTS } from './ops.ts';
import { resolveProgramOptions, type ProgramArbOptions, type ResolvedProgramOptions } from './options.ts';

/** Give every write a distinct value (1, 2, ...), in program order, so a read names its source. */
export function numberWrites(p: Program): Program {
  let v = 0;
  return {
    ...p,
    processes: p.processes.map((proc) => ({
      threads: proc.threads.map((ops) => ops.map((op): Op => (op.op === 'write' || op.op === 'pinWrite' ? { ...op, value: ++v } : op))),
    })),
  };
}

function threadArb(kinds: readonly OpKind[], o: ResolvedProgramOptions, processes: number): fc.Arbitrary<Op[]> {
  const op = fc.oneof(...kinds.map((k) => ({ arbitrary: opArb(k, o, processes), weight: OP_WEIGHTS[k] })));
  return fc.array(op, { minLength: 1, maxLength: o.maxOpsPerThread });
}

/** Mostly more than one process: a lone process cannot fork. */
function processCount(max: number): fc.Arbitrary<number> {
  if (max === 1) return fc.constant(1);
  return fc.oneof({ arbitrary: fc.constant(1), weight: 1 }, { arbitrary: fc.integer({ min: 2, max }), weight: 4 });
}

/**
 * Programs: up to maxProcesses processes (process 0 runs; the others run once
 * forked), 1..maxThreads threads each. Process 0's first thread starts by
 * mapping something, so most programs touch memory. With swarm testing each
 * program draws from its own random subset of op kinds.
 */
export function programArb(options: ProgramArbOptions = {}): fc.Arbitrary<Program> {
  const o = resolveProgramOptions(options);
  // Swarm over the ops that change the address space; reads and writes stay
  // on (when allowed): they are how a bug becomes visible.
  const observers: OpKind[] = o.ops.filter((k) => k === 'read' || k === 'write');
  const others = o.ops.filter((k) => !observers.includes(k));
  const kinds: fc.Arbitrary<readonly OpKind[]> =
    o.swarm && others.length > 0
      ? fc.subarray(others, { minLength: observers.length ? 0 : 1 }).map((ks) => [...observers, ...ks])
      : fc.constant(o.ops);
  return fc
    .tuple(kinds, processCount(o.maxProcesses))
    .chain(([ks, n]) =>
      fc.array(fc.array(threadArb(ks, o, n), { minLength: 1, maxLength: o.maxThreads }), { minLength: n, maxLength: n }).map((procs) => ({ procs, ks })),
    )
    .map(({ procs }) => {
      const first = procs[0]![0]!;
      if (first[0]?.op !== 'mmap' && o.ops.includes('mmap')) first.unshift({ op: 'mmap', region: 0, pages: o.maxPages, prot: 'rw' });
      return numberWrites({ processes: procs.map((threads) => ({ threads })), frames: o.frames });
    });
}
