// What the race witnesses share (readahead-witness.ts, unuse-witness.ts):
// they run on the clean model here and on a patched copy in test/corpus/
// (patched-model.ts), so they take the model's modules as arguments.
import type { Op } from '../../../engine/program/ops.ts';

export type Engine = typeof import('../../../engine/index.ts');
export type Runner = typeof import('../../../runner/index.ts');
export type Props = typeof import('../../../properties/index.ts');
export type WitnessResult = ReturnType<Runner['runCase']>;

/** The model a witness runs on. */
export interface Model {
  readonly engine: Engine;
  readonly runner: Runner;
  readonly props: Props;
}

/** P0.T0's prelude: a swap device, and r0's one page written and swapped out to it (MADV_PAGEOUT). */
export const SWAPPED_OUT_R0: readonly Op[] = [
  { op: 'swapon', dev: 0, slots: 4 },
  { op: 'mmap', region: 0, pages: 1, prot: 'rw' },
  { op: 'write', region: 0, page: 0, word: 0, value: 1 },
  { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'PAGEOUT' },
];


