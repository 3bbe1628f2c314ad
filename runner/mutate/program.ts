/**
 * Program mutations of the coverage-guided campaign, syzkaller-style: insert,
 * delete, duplicate or change one op, or splice a thread of another queued
 * program in. Ops are drawn by the generators' own op arbitraries, so a
 * mutant uses only the op kinds and ranges the campaign's options allow.
 * Pure: the parent is never changed.
 */
import fc from 'fast-check';
import type { Op, OpKind, Program } from '../../engine/program/ops.ts';
import type { Prng } from '../../engine/sched/prng.ts';
import { numberWrites } from '../../generators/program.ts';
import { opArbs, OP_WEIGHTS, type OpArbs } from '../../generators/ops.ts';
import type { ResolvedProgramOptions } from '../../generators/options.ts';

/** A mutant thread may grow past the generator's length: some paths need a dozen ops (mremap's merge back). */
export const MAX_MUTANT_OPS = 16;

const KTHREAD_KINDS: readonly OpKind[] = ['reclaim', 'swapoff', 'swapon', 'migrate'];

export class ProgramMutator {
  private readonly arbs: OpArbs;

  constructor(private readonly o: ResolvedProgramOptions) {
    this.arbs = opArbs(o);
  }

  /** One op of a kind drawn by weight among `kinds`. */
  private drawOp(rng: Prng, kinds: readonly OpKind[], processes: number): Op {
    const total = kinds.reduce((n, k) => n + OP_WEIGHTS[k], 0);
    let x = rng.below(total);
    let kind = kinds[0]!;
    for (const k of kinds) {
      if ((x -= OP_WEIGHTS[k]) < 0) {
        kind = k;
        break;
      }
    }
    return fc.sample(this.arbs(kind, processes), { seed: rng.nextU32() | 0, numRuns: 1 })[0]!;
  }

  /** A mutant of p; `other` is a second queued program, for splicing. */
  mutate(p: Program, rng: Prng, other?: Program): Program {
    const threads: Op[][] = p.processes.flatMap((proc) => proc.threads.map((t) => [...t]));
    const kthreads: Op[][] = (p.kthreads ?? []).map((t) => [...t]);
    const all = [...threads, ...kthreads];
    const ti = rng.below(all.length);
    const kernel = ti >= threads.length;
    const t = all[ti]!;
    const kinds = kernel ? this.o.ops.filter((k) => KTHREAD_KINDS.includes(k)) : this.o.ops;
    const n = p.processes.length;
    const what = other && rng.below(8) === 0 ? 4 : rng.below(4);
    if (what === 0 && t.length < MAX_MUTANT_OPS && kinds.length) t.splice(rng.below(t.length + 1), 0, this.drawOp(rng, kinds, n));
    else if (what === 1 && t.length > 1) t.splice(rng.below(t.length), 1);
    else if (what === 2 && t.length < MAX_MUTANT_OPS) {
      const i = rng.below(t.length);
      t.splice(rng.below(t.length + 1), 0, t[i]!);
    } else if (what === 3 && kinds.length) {
      // Change an op: half the time its arguments only (same kind), else its kind too.
      const i = rng.below(t.length);
      const same = kinds.includes(t[i]!.op) && rng.below(2) === 0;
      t[i] = this.drawOp(rng, same ? [t[i]!.op] : kinds, n);
    } else if (what === 4) spliceThread(t, other!, rng, kernel);
    let k = 0;
    // Now and then the program's machine rather than its ops: the fault mode, or the memory size.
    const machine = rng.below(16);
    const attrs: Partial<Program> = machine === 0 ? { faultMode: (p.faultMode ?? 'vma-lock') === 'vma-lock' ? 'spf' : 'vma-lock' } : machine === 1 ? { frames: 8 + rng.below(25) } : {};
    const processes = p.processes.map((proc) => ({ threads: proc.threads.map(() => all[k++]!) }));
    const out: Program = { ...p, ...attrs, processes, ...(kthreads.length ? { kthreads: all.slice(threads.length) } : {}) };
    return numberWrites(out);
  }
}

/** Crossover: a prefix of t, then a suffix of a thread of the other program (user with user, kernel with kernel). */
function spliceThread(t: Op[], other: Program, rng: Prng, kernel: boolean): void {
  const pool = kernel ? [...(other.kthreads ?? [])] : other.processes.flatMap((proc) => proc.threads);
  if (pool.length === 0) return;
  const src = pool[rng.below(pool.length)]!;
  const cut = rng.below(t.length + 1);
  const from = rng.below(src.length);
  t.splice(cut, t.length - cut, ...src.slice(from));
  if (t.length === 0) t.push(src[0]!);
  if (t.length > MAX_MUTANT_OPS) t.length = MAX_MUTANT_OPS;
}
