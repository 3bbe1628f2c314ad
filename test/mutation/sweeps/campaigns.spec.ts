import assert from 'node:assert/strict';
import { sweep } from '../sweep.ts';

/**
 * Fixed-seed campaigns over the clean model: zero violations. With every
 * property on, these kill most mutants of the model, since a mutant that
 * changes behaviour usually breaks an invariant within a few hundred runs.
 * The op mixes pull the generator towards different paths.
 */
describe('mutation: fixed-seed campaigns find nothing on the clean model', function () {
  this.timeout(60_000);
  const campaigns: [string, number, number, Parameters<typeof sweep>[2]][] = [
    ['the default op mix', 1, 1500, {}],
    ['fork-heavy, more threads', 2, 800, { ops: ['mmap', 'read', 'write', 'fork', 'exit', 'madvise'], maxThreads: 3, maxOpsPerThread: 5 }],
    ['address-space changes: mremap, munmap, mprotect, exec', 3, 800, { ops: ['mmap', 'munmap', 'mremap', 'mprotect', 'read', 'write', 'exec', 'fork'], swarm: false }],
    ['tight memory', 4, 500, { frames: 6, maxPages: 4 }],
  ];
  for (const [what, seed, runs, program] of campaigns) {
    it(`${what} (seed ${seed}, ${runs} runs)`, () => {
      const r = sweep(seed, runs, program);
      assert.equal(r.failure, undefined);
      assert.equal(r.runs, runs);
    });
  }
});
