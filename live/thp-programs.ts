/**
 * The programs of `kernel diff --thp`: the expressible op kinds but swap and
 * hugetlbfs (live/c/thp.c scales a model page to 128 KiB, so a model swap
 * slot or hugetlb page is not the kernel's), regions of up to a THP (16 model
 * pages: the generator's THP prelude maps region 0 so, PMD-aligned, and
 * MADV_HUGEPAGE's it), on a machine that has the shared zero page as Linux
 * does, enough frames that a THP fault rarely falls back for want of memory
 * (the kernel has 24 GiB), no khugepaged (the kernel's sleeps: thp.c), and
 * THP enabled as the kernel's knob is set for the run.
 */
import fc from 'fast-check';
import { OP_KINDS, type OpKind, type Program } from '../engine/program/ops.ts';
import { programArb } from '../generators/index.ts';
import type { ThpMode } from './encode.ts';
import { expressedKinds } from './expressible.ts';

/** Not drawn in THP mode, and why. */
export const NOT_IN_THP_MODE: Readonly<Partial<Record<OpKind, string>>> = {
  swapon: 'a model swap slot is one 128 KiB model page, the kernel swaps 4 KiB pages (a THP needs 512 slots): slot exhaustion would differ',
  swapoff: 'no swap in THP mode (swapon)',
  hugetlbCreate: 'hugetlbfs is not what THP mode checks (kernel diff without --thp covers it)',
  hugetlbMmap: 'as hugetlbCreate',
  hugetlbPunch: 'as hugetlbCreate',
  hugetlbTruncate: 'as hugetlbCreate',
  memfdCreate: "the executor's memfd offsets and its vmsplice'd page are in 4 KiB pages, not THP mode's 128 KiB model pages: not scaled yet",
  memfdMmap: 'as memfdCreate',
  memfdTruncate: 'as memfdCreate',
  memfdPunch: 'as memfdCreate',
  get: 'as memfdCreate',
  getRead: 'as memfdCreate',
  put: 'as memfdCreate',
};

/** Frames for a THP-mode program: 32 THPs' worth. */
export const THP_MODE_FRAMES = 512;

export function thpKinds(): OpKind[] {
  return expressedKinds(OP_KINDS).filter((k) => NOT_IN_THP_MODE[k] === undefined);
}

/** A generated program made a THP-mode one (the machine's knobs; the ops unchanged). */
export function forThp(p: Program, mode: ThpMode): Program {
  const { khugepaged: _k, ...rest } = p;
  return { ...rest, zeroPage: true, frames: THP_MODE_FRAMES, ...(mode === 'always' ? { thpAlways: true } : {}) };
}

export function thpProgramArb(mode: ThpMode): fc.Arbitrary<Program> {
  return programArb({ ops: thpKinds(), pinFlags: { write: true, longterm: true }, maxPages: 16 }).map((p) => forThp(p, mode));
}
