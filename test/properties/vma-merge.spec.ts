import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { properties } from '../../properties/index.ts';
import { replayCase } from '../../runner/index.ts';

/**
 * After a MREMAP_DONTUNMAP the tree is not judged: the emptied old VMA gets
 * its neighbour's anon_vma on its next fault (find_mergeable_anon_vma) and
 * Linux never merges the two. The case a campaign of pin, mremap and fork ops
 * found as a false positive: P2 maps r1 just below its forked r0, moves r0
 * away with DONTUNMAP, then faults on both pages.
 */
describe('properties/vma-merge', () => {
  it('does not judge the tree after a MREMAP_DONTUNMAP whose emptied VMA took its neighbour\'s anon_vma', () => {
    const { program, schedule } = JSON.parse(readFileSync('test/fixtures/properties/vma-merge-after-dontunmap.json', 'utf8'));
    const r = replayCase(program, schedule, { properties });
    assert.equal(r.violation, undefined, r.violation?.message);
    const recs = r.history.records;
    assert.ok(recs.some((x) => x.op.op === 'mremap' && x.op.dontunmap === true && x.result >= 0), 'the DONTUNMAP move happened');
    assert.ok(recs.some((x) => x.kind === 'write' && x.result === 0), 'the emptied VMA was faulted on');
  });
});
