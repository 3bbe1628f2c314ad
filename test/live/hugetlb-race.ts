// The hugetlb/mprotect finding's minimal program, and a sweep of schedules over it, for a model's modules.
import type { Op, Program } from '../../engine/program/ops.ts';
import type { Model } from '../engine/races/witness.ts';

/** P0 maps the file rw, writes, forks, makes it read-only; P1 maps it r, reads (shares P0's PMD page?), writes. */
export const HUGETLB_MPROTECT_RACE: Program = {
  processes: [
    {
      threads: [
        [
          { op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 1, prot: 'rw' },
          { op: 'write', region: 0, page: 0, word: 0, value: 1 },
          { op: 'fork', child: 1 },
          { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'r' },
        ] satisfies Op[],
      ],
    },
    {
      threads: [
        [
          { op: 'hugetlbMmap', region: 1, file: 0, hpage: 0, hpages: 1, prot: 'r' },
          { op: 'read', region: 1, page: 0, word: 0 },
          { op: 'write', region: 1, page: 0, word: 1, value: 2 },
        ] satisfies Op[],
      ],
    },
  ],
  frames: 16,
};

/**
 * The mirror image (corpus/findings/liveness-b1adc04bc1.json): P0 maps the file
 * rw, touches page 0, mprotects it none and back to rw; P1 maps it rw and reads
 * (shares P0's PMD page of protnone PTEs in P0's window, and spins?).
 */
export const HUGETLB_PROTNONE_RACE: Program = {
  processes: [
    {
      threads: [
        [
          { op: 'fork', child: 1 },
          { op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 1, prot: 'rw' },
          { op: 'read', region: 0, page: 0, word: 0 },
          { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'none' },
          { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'rw' },
        ] satisfies Op[],
      ],
    },
    {
      threads: [
        [
          { op: 'hugetlbMmap', region: 1, file: 0, hpage: 0, hpages: 1, prot: 'rw' },
          { op: 'read', region: 1, page: 0, word: 0 },
        ] satisfies Op[],
      ],
    },
  ],
  frames: 16,
};

/** Schedules 0..n-1 (PCT and random walk, alternating) of a program (by default P1's write through its read-only mapping): the violations. */
export function sweep(m: Model, n: number, program: Program = HUGETLB_MPROTECT_RACE): { hits: number; messages: string[] } {
  const { Pct, RandomWalk } = m.engine;
  const messages: string[] = [];
  for (let s = 0; s < n; s++) {
    const strategy = s % 2 ? new RandomWalk(s) : new Pct({ seed: s, depth: 3, maxSteps: 400 });
    const r = m.runner.runCase(program, strategy, { properties: m.props.properties });
    if (r.violation) messages.push(`${r.violation.property}: ${r.violation.message}`);
  }
  return { hits: messages.length, messages };
}
