import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ModelCache } from '../../corpus/model.ts';
import { replayEntry } from '../../corpus/replay.ts';
import { entryFileName, KNOWN_BAD_DIR, loadKnownBad, PATCHES_DIR } from '../../mutation/known-bad.ts';

/**
 * The regression set of known-bad patches: each repro fails with its patch
 * applied (the model still lets the bug be expressed, and the property still
 * sees it, with the same message) and passes on the clean model (the repro is
 * about the bug, not about something else the model gets wrong). Judged as
 * `mmfuzz replay` and `corpus prune` judge it: corpus/replay.ts.
 */
describe('corpus/known-bad', function () {
  this.timeout(60_000);
  const entries = loadKnownBad();
  const models = new ModelCache();
  after(() => models.dispose());

  it('every known-bad patch has a repro (run `npx mmfuzz check-patches` for a new patch)', () => {
    const patches = existsSync(PATCHES_DIR) ? readdirSync(PATCHES_DIR).filter((n) => n.endsWith('.patch')) : [];
    const missing = patches.filter((p) => !existsSync(join(KNOWN_BAD_DIR, entryFileName(p))));
    assert.deepEqual(missing, []);
  });

  for (const { file, entry } of entries) {
    describe(file, () => {
      it(`fails with ${entry.property} on the model patched with ${entry.patch}`, async () => {
        assert.ok(existsSync(join(PATCHES_DIR, entry.patch)), `${file} names ${entry.patch}, which is not in mutation/patches/`);
        const r = replayEntry(entry, await models.get(entry.patch));
        assert.equal(r.verdict, 'reproduced', r.violation ? `${r.violation.property}: ${r.violation.message}` : 'no violation');
      });

      it('passes on the clean model', async () => {
        const r = replayEntry({ ...entry, patch: undefined }, await models.get(undefined));
        assert.equal(r.verdict, 'passes', r.violation && `${r.violation.property}: ${r.violation.message}`);
      });
    });
  }
});
