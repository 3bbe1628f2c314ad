import assert from 'node:assert/strict';
import { PatchHeaderError } from '../../../mutation/errors.ts';
import { parsePatchHeader } from '../../../mutation/header.ts';

const HEAD = ['Seed: 003_dcb31648f558f9b9.txt', 'Reverts: abc123 ("mm: fix it")', 'Expect: data-integrity (the child reads the parent)', 'Why: line one', '  line two', ''];
const DIFF = ['diff --git a/engine/mm/memory.ts b/engine/mm/memory.ts', '--- a/engine/mm/memory.ts', '+++ b/engine/mm/memory.ts', '@@ -1,1 +1,1 @@', '-a', '+b', ''];
const patch = (...head: string[]): string => [...head, ...DIFF].join('\n');

describe('mutation/header', () => {
  it('parses the fields, continuation lines and the optional campaign settings', () => {
    const h = parsePatchHeader(patch(...HEAD.slice(0, -1), 'Program: {"maxOpsPerThread": 8}', 'Fuzz-Seed: 7', ''), 'x.patch');
    assert.equal(h.seed, '003_dcb31648f558f9b9.txt');
    assert.equal(h.expect, 'data-integrity');
    assert.equal(h.why, 'line one line two');
    assert.deepEqual(h.program, { maxOpsPerThread: 8 });
    assert.equal(h.fuzzSeed, 7);
    assert.equal(parsePatchHeader(patch(...HEAD), 'x.patch').fuzzSeed, 0);
  });

  it('a missing field, an unknown property, bad Program: JSON are one-line errors naming the file', () => {
    for (const [head, why] of [
      [HEAD.filter((l) => !l.startsWith('Reverts')), /x\.patch: the header has no "Reverts:" line/],
      [HEAD.map((l) => l.replace('data-integrity', 'data-integrety')), /"Expect: data-integrety" is not a property/],
      [[...HEAD.slice(0, -1), 'Program: {maxOps'], /"Program:" is not JSON/],
      [[...HEAD.slice(0, -1), 'Program: {"maxThreads": 9}'], /"Program:" programArb: maxThreads must be/],
      [['Seed 003', ...HEAD], /header line 1 is neither/],
    ] as const) {
      assert.throws(
        () => parsePatchHeader(patch(...head), 'x.patch'),
        (e: unknown) => e instanceof PatchHeaderError && why.test(e.message) && !e.message.includes('\n'),
      );
    }
  });
});
