import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryFileName, KNOWN_BAD_DIR, loadKnownBad, PATCHES_DIR } from '../../mutation/known-bad.ts';
import { Workspace } from '../../project/workspace.ts';
import { replayCase } from '../../runner/index.ts';
import { properties } from '../../properties/index.ts';

type Runner = typeof import('../../runner/index.ts');
type Props = typeof import('../../properties/index.ts');

/**
 * The regression set of known-bad patches: each repro fails with its patch
 * applied (the model still lets the bug be expressed, and the property still
 * sees it) and passes on the clean model (the repro is about the bug, not
 * about something else the model gets wrong).
 */
describe('corpus/known-bad', function () {
  this.timeout(60_000);
  const entries = loadKnownBad();

  it('every known-bad patch has a repro (run `npx tsx mutation/main.ts check-patches` for a new patch)', () => {
    const patches = existsSync(PATCHES_DIR) ? readdirSync(PATCHES_DIR).filter((n) => n.endsWith('.patch')) : [];
    const missing = patches.filter((p) => !existsSync(join(KNOWN_BAD_DIR, entryFileName(p))));
    assert.deepEqual(missing, []);
  });

  for (const { file, entry } of entries) {
    describe(file, () => {
      it(`fails with ${entry.property} on the model patched with ${entry.patch}`, async () => {
        const patch = join(PATCHES_DIR, entry.patch);
        assert.ok(existsSync(patch), `${file} names ${entry.patch}, which is not in mutation/patches/`);
        const ws = Workspace.create(readFileSync(patch, 'utf8'), entry.patch);
        try {
          const runner = await ws.import<Runner>('runner/index.ts');
          const props = await ws.import<Props>('properties/index.ts');
          const r = runner.replayCase(entry.program, entry.schedule, { properties: props.properties });
          assert.equal(r.violation?.property, entry.property, r.violation?.message ?? 'no violation');
        } finally {
          ws.dispose();
        }
      });

      it('passes on the clean model', () => {
        const r = replayCase(entry.program, entry.schedule, { properties });
        assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
      });
    });
  }
});
