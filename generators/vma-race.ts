import fc from 'fast-check';
import type { Op, OpKind, Program } from '../engine/program/ops.ts';
import { opArbs, OP_WEIGHTS, type OpArbs } from './ops.ts';
import type { ResolvedProgramOptions } from './options.ts';

/** The ops that write-lock VMAs (vma_start_write) while other threads fault. */
const VMA_WRITERS: readonly OpKind[] = ['munmap', 'mremap', 'mprotect', 'fork', 'madvise'];

/**
 * What the other threads do: user accesses that fault without mmap_lock
 * (under the VMA lock, or speculatively), and GUP pins, whose fast path
 * takes no lock at all (seed 003: GUP-fast against fork's copy_page_range).
 */
const ACCESSORS: readonly OpKind[] = ['read', 'write', 'pin', 'pinRead', 'pinWrite', 'unpin'];

function mixArb(kinds: readonly OpKind[], o: ResolvedProgramOptions, ops: OpArbs, processes: number, min: number): fc.Arbitrary<Op[]> {
  const op = fc.oneof(...kinds.map((k) => ({ arbitrary: ops(k, processes), weight: OP_WEIGHTS[k] })));
  return fc.array(op, { minLength: min, maxLength: o.maxOpsPerThread });
}

/**
 * The 'vma-race' mix: process 0's first thread maps region 0, touches it (so
 * it has an anon_vma and later faults may go without mmap_lock), then changes
 * the address space; its other threads, and forked children, read and write
 * (and pin, when `ops` names the pin ops).
 * Write values are numbered by the caller.
 */
export function vmaRaceArb(o: ResolvedProgramOptions): fc.Arbitrary<Program> {
  const observers = o.ops.filter((k) => ACCESSORS.includes(k));
  const access: readonly OpKind[] = observers.length ? observers : ['read', 'write'];
  const chosen = o.ops.filter((k) => VMA_WRITERS.includes(k));
  const writers = chosen.length ? chosen : VMA_WRITERS;
  // Swarm, as in the default mix: each program its own writers and accessors (munmap alone against reads and writes).
  const subset = (ks: readonly OpKind[]): fc.Arbitrary<readonly OpKind[]> => (o.swarm && ks.length > 1 ? fc.subarray([...ks], { minLength: 1 }) : fc.constant(ks));
  const ops = opArbs(o);
  return fc.tuple(subset(writers), subset(access)).chain(([w, a]) => raceArb(o, ops, w, a));
}

function raceArb(o: ResolvedProgramOptions, ops: OpArbs, writers: readonly OpKind[], access: readonly OpKind[]): fc.Arbitrary<Program> {
  const processes = writers.includes('fork') ? Math.max(2, o.maxProcesses) : 1;
  const faulters = Math.max(2, o.maxThreads);
  const prelude: Op[] = [
    { op: 'mmap', region: 0, pages: o.maxPages, prot: 'rw' },
    { op: 'write', region: 0, page: 0, word: 0, value: 0 },
  ];
  const p0 = fc.tuple(
    mixArb([...writers, ...access], o, ops, processes, 1).map((ops) => [...prelude, ...ops]),
    fc.array(mixArb(access, o, ops, processes, 1), { minLength: 1, maxLength: faulters - 1 }),
  );
  const children = fc.array(fc.array(mixArb(access, o, ops, processes, 1), { minLength: 1, maxLength: o.maxThreads }), {
    minLength: processes - 1,
    maxLength: processes - 1,
  });
  return fc.tuple(p0, children).map(([[first, rest], kids]) => ({
    processes: [{ threads: [first, ...rest] }, ...kids.map((threads) => ({ threads }))],
    frames: o.frames,
  }));
}
