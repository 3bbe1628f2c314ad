import assert from 'node:assert/strict';
import { ABSTRACTIONS } from '../../live/abstractions.ts';
import { kernelUnavailable } from '../../live/build.ts';
import { kernelDiff } from '../../live/diff.ts';

const why = kernelUnavailable();

/**
 * A small `kernel diff`: 300 generated programs, each run one op at a time
 * on the model and on this kernel. Every difference must be one of the named
 * abstractions or known model gaps.
 */
describe(`live: kernel diff${why ? ` (skipped: ${why})` : ''}`, function () {
  this.timeout(240_000);
  before(function () {
    if (why) this.skip();
  });

  it('300 programs: most compared op by op, reads among them, no difference but the named ones', () => {
    const r = kernelDiff({ runs: 300, seed: 3 });
    assert.equal(r.runs, 300);
    assert.ok(r.compared >= 200, `only ${r.compared} compared`);
    assert.ok(r.ops >= 5 * r.compared, `only ${r.ops} ops`);
    for (const name of Object.keys(r.abstractions)) assert.ok(ABSTRACTIONS.some((a) => a.name === name));
    assert.deepEqual(
      r.differences.map((d) => d.signature),
      [],
    );
  });
});
