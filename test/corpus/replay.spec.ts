import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelCache } from '../../corpus/model.ts';
import { replayEntry } from '../../corpus/replay.ts';
import { listEntries, loadEntry, saveEntry } from '../../corpus/store.ts';
import { PROJECT_ROOT } from '../../project/root.ts';
import { cowFailure } from '../helpers/cow-failure.ts';

/**
 * The corpus is a regression suite: every corpus/*.json must still violate
 * its property (entries found on a patched model replay on that patch).
 * corpus/known-bad/ has its own spec. An empty corpus still proves the path
 * end to end: a real failure, written, loaded and replayed.
 */
describe('corpus: every entry still fails', function () {
  this.timeout(60_000);
  const entries = listEntries(join(PROJECT_ROOT, 'corpus'));
  const models = new ModelCache();
  after(() => models.dispose());

  for (const { file, entry } of entries) {
    it(`${file.slice(PROJECT_ROOT.length + 1)} violates ${entry.property}`, async () => {
      const r = replayEntry(entry, await models.get(entry.patch));
      assert.ok(r.reproduced, `now ${r.violation ? `${r.violation.property}: ${r.violation.message}` : 'passes'}; if the bug was fixed on purpose, run mmfuzz corpus prune`);
    });
  }

  if (entries.length === 0) {
    it('(no entries yet) a campaign failure round-trips through write, load and replay', async () => {
      const { entry, model } = await cowFailure();
      const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-corpus-'));
      try {
        const loaded = loadEntry(saveEntry(dir, entry).file);
        assert.deepEqual(loaded, JSON.parse(JSON.stringify(entry)));
        const r = replayEntry(loaded, model);
        assert.ok(r.reproduced, r.violation?.message ?? 'no violation');
        assert.equal(r.violation?.property, 'data-integrity');
        // The same repro on the clean model is no bug at all.
        assert.equal(replayEntry(loaded).reproduced, false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
