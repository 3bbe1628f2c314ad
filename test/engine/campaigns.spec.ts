import assert from 'node:assert/strict';
import type { ProgramArbOptions } from '../../generators/index.ts';
import { sweep } from './sweep.ts';

/**
 * Fixed-seed campaigns over the clean model: zero violations. With every
 * property on, these kill most mutants of the model, since a mutant that
 * changes behaviour usually breaks an invariant within a few hundred runs.
 * The op mixes pull the generator towards one subsystem each, so that every
 * one of them is exercised whatever swarm testing draws.
 */

describe('engine/campaigns: fixed-seed campaigns find nothing on the clean model', function () {
  this.timeout(120_000);
  const campaigns: [string, number, number, ProgramArbOptions][] = [
    ['the default op mix', 1, 400, {}],
    ['fork-heavy, more threads', 2, 300, { ops: ['mmap', 'read', 'write', 'fork', 'exit', 'madvise'], maxThreads: 3, maxOpsPerThread: 5 }],
    ['address-space changes: mremap, munmap, mprotect, exec', 3, 300, { ops: ['mmap', 'munmap', 'mremap', 'mprotect', 'read', 'write', 'exec', 'fork'], swarm: false }],
    ['tight memory', 4, 300, { frames: 6, maxPages: 4 }],
    ['pins: GUP, GUP-fast, fork, COW', 5, 300, { ops: ['mmap', 'read', 'write', 'fork', 'pin', 'pinRead', 'pinWrite', 'unpin', 'madvise', 'munmap'] }],
    ['swap: reclaim, swapon/swapoff, fork and exit', 6, 300, { ops: ['mmap', 'read', 'write', 'fork', 'exit', 'swapon', 'swapoff', 'reclaim', 'madvise', 'munmap'], frames: 8 }],
    ['migration against exec, mremap, pins', 7, 300, { ops: ['mmap', 'read', 'write', 'fork', 'exec', 'mremap', 'munmap', 'migrate', 'pin', 'unpin'] }],
    ['speculative faults against VMA changes', 9, 300, { faultMode: 'spf', ops: ['mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'read', 'write', 'fork', 'exit'] }],
    ['hugetlbfs: shared mappings, punch, truncate', 8, 300, { ops: ['hugetlbCreate', 'hugetlbMmap', 'hugetlbPunch', 'hugetlbTruncate', 'read', 'write', 'fork', 'munmap', 'mprotect', 'exit'] }],
  ];
  for (const [what, seed, runs, program] of campaigns) {
    it(`${what} (seed ${seed}, ${runs} runs)`, () => {
      const r = sweep(seed, runs, program);
      assert.equal(r.failure, undefined);
      assert.equal(r.runs, runs);
    });
  }
});
