import fc from 'fast-check';
import type { Advice, Op } from '../engine/program/ops.ts';

/** The advice that undoes a flag advice (the VMA pieces it split can merge back). */
const UNDO: Partial<Record<Advice, Advice>> = { WIPEONFORK: 'KEEPONFORK', KEEPONFORK: 'WIPEONFORK', DONTFORK: 'DOFORK', DOFORK: 'DONTFORK' };

/** The op that undoes `op` over the same range: mprotect back to rw, or the opposite flag advice. */
export function undoOf(op: Op): Op | undefined {
  if (op.op === 'mprotect' && op.prot !== 'rw') return { ...op, prot: 'rw' };
  if (op.op === 'madvise' && UNDO[op.advice]) return { ...op, advice: UNDO[op.advice]! };
  return undefined;
}

/**
 * A thread's ops where, now and then, a split is undone a little later in the
 * same thread (split-and-undo: Linux merges the pieces back): each op comes
 * with a draw `d`; for d < 2 its undo follows d + 1 ops later (or at the end).
 * Cut to `max` ops.
 */
export function withUndos(drawn: readonly (readonly [Op, number])[], max: number): Op[] {
  const out: Op[] = [];
  const pending: { at: number; op: Op }[] = [];
  drawn.forEach(([op, d], i) => {
    out.push(op);
    const undo = undoOf(op);
    if (undo && d < 2) pending.push({ at: i + d + 1, op: undo });
    for (const p of pending.filter((x) => x.at === i)) out.push(p.op);
  });
  for (const p of pending) if (p.at >= drawn.length) out.push(p.op);
  return out.slice(0, max);
}

/** Ops of a thread, with split-and-undo pairs: `op` drawn 1..max times. */
export function opsWithUndos(op: fc.Arbitrary<Op>, max: number): fc.Arbitrary<Op[]> {
  return fc.array(fc.tuple(op, fc.nat(3)), { minLength: 1, maxLength: max }).map((drawn) => withUndos(drawn, max));
}
