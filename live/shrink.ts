/**
 * Shrinks a program whose sequential run differs between the model and the
 * kernel: drop one op at a time (and then whole threads and processes that
 * are left empty are kept, so fork targets stay valid) while a difference
 * with the same signature remains. Each try is one model run and one kernel
 * run; the budget bounds them.
 */
import type { Op, Program } from '../engine/program/ops.ts';
import type { Difference } from './compare.ts';

export function signatureOf(d: Difference): string {
  if (d.model.state !== undefined) return `${d.op.op}${d.op.op === 'madvise' ? ` ${d.op.advice}` : ''}: page state model ${d.model.state}, kernel ${d.kernel.state}`;
  return `${d.op.op}: model ${d.model.result}${d.model.value !== undefined ? `=${d.model.value}` : ''}, kernel ${d.kernel.result}${d.kernel.value !== undefined ? `=${d.kernel.value}` : ''}`;
}

/** Every program with exactly one op removed, the last ops first. */
function* withoutOneOp(p: Program): Generator<Program> {
  for (let pi = p.processes.length - 1; pi >= 0; pi--) {
    const threads = p.processes[pi]!.threads;
    for (let ti = threads.length - 1; ti >= 0; ti--) {
      for (let oi = threads[ti]!.length - 1; oi >= 0; oi--) {
        const ops: Op[] = threads[ti]!.filter((_, i) => i !== oi);
        const procs = p.processes.map((proc, i) => (i !== pi ? proc : { threads: threads.map((t, j) => (j === ti ? ops : t)) }));
        yield { ...p, processes: procs };
      }
    }
  }
  for (let k = (p.kthreads ?? []).length - 1; k >= 0; k--) {
    const kt = p.kthreads![k]!;
    for (let oi = kt.length - 1; oi >= 0; oi--) yield { ...p, kthreads: p.kthreads!.map((t, j) => (j === k ? t.filter((_, i) => i !== oi) : t)) };
  }
}

/**
 * `differs(p)` runs p on both sides and returns the difference with the
 * signature, or undefined. Returns the smallest program found and its difference.
 */
export function shrinkDifference(p: Program, d: Difference, differs: (p: Program) => Difference | undefined, budget = 150): { program: Program; difference: Difference; tries: number } {
  let tries = 0;
  let best = { program: p, difference: d };
  for (let progress = true; progress && tries < budget; ) {
    progress = false;
    for (const q of withoutOneOp(best.program)) {
      if (++tries > budget) break;
      const e = differs(q);
      if (e) {
        best = { program: q, difference: e };
        progress = true;
        break;
      }
    }
  }
  return { ...best, tries };
}
