import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/** The README's example is test/index.spec.ts (below its two comment lines): they must not drift apart. */
describe('README', () => {
  it('"Write your own property" is the code of test/index.spec.ts', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /## Write your own property[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const spec = readFileSync('test/index.spec.ts', 'utf8').split('\n').slice(2).join('\n');
    assert.equal(block, spec);
  });
});
