import assert from 'node:assert/strict';
import fc from 'fast-check';
import { resolveProgramOptions } from '../../generators/index.ts';
import { opArb, opArbs } from '../../generators/ops.ts';

describe('generators: op arbitraries', () => {
  const o = resolveProgramOptions({ maxPages: 3 });
  const kinds = ['mmap', 'madvise', 'pin', 'fork', 'hugetlbMmap'] as const;

  it('opArbs builds each kind and process count once', () => {
    const ops = opArbs(o);
    assert.equal(ops('pin', 2), ops('pin', 2));
    assert.notEqual(ops('fork', 2), ops('fork', 3), 'fork draws its child from the process count');
    assert.notEqual(ops('read', 2), opArbs(o)('read', 2), 'one cache per program arbitrary');
  });

  it('a cached arbitrary draws what a fresh one does, from any seed: campaigns keep their programs', () => {
    const ops = opArbs(o);
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.constantFrom(1, 3), fc.integer(), (kind, processes, seed) => {
        const cached = fc.sample(ops(kind, processes), { numRuns: 10, seed });
        assert.deepEqual(fc.sample(ops(kind, processes), { numRuns: 10, seed }), cached, `${kind}: again from the cache`);
        assert.deepEqual(fc.sample(opArb(kind, o, processes), { numRuns: 10, seed }), cached, `${kind}: as built anew`);
      }),
      { numRuns: 50 },
    );
  });
});
