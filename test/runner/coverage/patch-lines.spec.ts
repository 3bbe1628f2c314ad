import assert from 'node:assert/strict';
import { changedLines } from '../../../runner/coverage/patch-lines.ts';

const PATCH = `diff --git a/engine/mm/memory.ts b/engine/mm/memory.ts
--- a/engine/mm/memory.ts
+++ b/engine/mm/memory.ts
@@ -10,4 +10,4 @@
 a
-b
+c
+  yield 'do_thing: retake the lock';
 d
-e
diff --git a/test/x.ts b/test/x.ts
--- a/test/x.ts
+++ b/test/x.ts
@@ -1,1 +1,1 @@
-x
+y
`;

describe('runner/coverage: the lines a patch changes', () => {
  it('gives added lines and the place of deleted ones, in the patched file, model files only', () => {
    const c = changedLines(PATCH);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.path, 'engine/mm/memory.ts');
    // a=10, (b deleted at 11) c=11, yield=12, d=13, (e deleted at 14)
    assert.deepEqual(c[0]!.lines, [11, 12, 14]);
    assert.deepEqual(c[0]!.added, ['c', "  yield 'do_thing: retake the lock';"]);
  });
});

describe('runner/coverage: a patch applied with an offset', () => {
  it('places its lines where the hunk stands in the patched file', () => {
    const patched = ['x', 'y', 'z', 'a', 'c', "  yield 'do_thing: retake the lock';", 'd'];
    const c = changedLines(PATCH, (p) => (p === 'engine/mm/memory.ts' ? patched : undefined));
    // The hunk says line 10; in the patched file its "a" is line 4.
    assert.deepEqual(c[0]!.lines, [5, 6, 8]);
  });
});
