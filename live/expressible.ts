/**
 * Ops the kernel executor cannot express, each with why. `kernel diff` does
 * not generate them and lists them in every report; a program that holds one
 * (a corpus entry, a hand-written one) is refused with the op named.
 */
import type { Op, OpKind } from '../engine/program/ops.ts';

export const NOT_EXPRESSED: Readonly<Partial<Record<OpKind, string>>> = {
  exec: "the model's exec builds a new stack of `args` argument pages as a region; the executor would have to re-exec itself and rebuild its pipes: not done yet",
  reclaim: "kswapd's victim is the model's n-th folio in pfn order; user space cannot name a folio to reclaim (MADV_PAGEOUT, which is expressed, is the user-space form)",
  migrate: "kcompactd's victim is the model's n-th folio in pfn order; move_pages() names pages by address, not the model's folio order",
};

/*
 * get is vmsplice() (live/c/vmsplice.c): always GUP-fast falling back to the
 * slow path, whatever the op's `fast` says; a sequential program cannot tell
 * the two apart (the slow path succeeds wherever GUP-fast gave up), so both
 * are expressed.
 */

/** Pins are io_uring fixed buffers: always FOLL_WRITE | FOLL_LONGTERM. */
export const PIN_NOT_EXPRESSED = 'a R/O or short-term pin: io_uring fixed buffers are pinned FOLL_WRITE | FOLL_LONGTERM only';

/** Why the executor cannot run op, or undefined if it can. */
export function whyNotExpressed(op: Op): string | undefined {
  if (op.op === 'pin' && !(op.write && op.longterm)) return PIN_NOT_EXPRESSED;
  return NOT_EXPRESSED[op.op];
}

/** The op kinds `kernel diff` generates. */
export function expressedKinds(all: readonly OpKind[]): OpKind[] {
  return all.filter((k) => NOT_EXPRESSED[k] === undefined);
}
