import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ModelCache } from '../../corpus/model.ts';
import { replayEntry } from '../../corpus/replay.ts';
import { loadEntry } from '../../corpus/store.ts';
import * as engine from '../../engine/index.ts';
import * as props from '../../properties/index.ts';
import * as runner from '../../runner/index.ts';
import { PROJECT_ROOT, Workspace } from '../../mutation/workspace.ts';
import type { Engine, Model, Props, Runner } from '../engine/races/witness.ts';
import { sweep } from './hugetlb-race.ts';

const DIR = join(PROJECT_ROOT, 'corpus', 'findings');
const STATUSES = ['kernel-confirmed', 'model-gap', 'open'];
const FIX = 'mutation/fixes/001-hugetlb-mprotect-flags-under-i-mmap-rwsem.patch';

interface Finding {
  readonly status: string;
  readonly kernel?: string;
  readonly hitRate?: string;
  readonly fix?: string;
}

/**
 * corpus/findings/ holds the clean-model violations, out of the regression
 * corpus (corpus list/prune/replay see only top-level entries). Each has a
 * status; a kernel-confirmed or open one still fails on the clean model (the
 * model follows Linux there); a model gap need not.
 */
describe('corpus/findings', function () {
  this.timeout(120_000);
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  const models = new ModelCache();
  after(() => models.dispose());

  it('holds the hugetlb/mprotect finding, kernel-confirmed with a kernel version, a hit rate and its fix', () => {
    const f = (JSON.parse(readFileSync(join(DIR, 'data-integrity-89c3c5454f.json'), 'utf8')) as { finding: Finding }).finding;
    assert.equal(f.status, 'kernel-confirmed');
    assert.match(f.kernel ?? '', /^6\.\d+/);
    assert.match(f.hitRate ?? '', /\d/);
    assert.equal(f.fix, FIX);
  });

  for (const file of files) {
    it(`${file} has a status and, unless a model gap, still fails on the clean model`, async () => {
      const entry = loadEntry(join(DIR, file));
      const status = (entry as unknown as { finding?: Finding }).finding?.status;
      assert.ok(status && STATUSES.includes(status), `finding.status must be one of ${STATUSES.join(', ')}`);
      if (status === 'model-gap') return;
      const r = replayEntry(entry, await models.get(entry.patch));
      assert.ok(r.reproduced, `now ${r.violation ? `${r.violation.property}: ${r.violation.message}` : 'passes'}`);
      assert.equal(r.violation?.property, entry.property);
    });
  }
});

/** The proposed fix closes the race: the finding's minimal program under the same schedules, clean vs fixed. */
describe(`the fix ${FIX}`, function () {
  this.timeout(300_000);
  const N = 1500;

  it(`the clean model lets P1 write through its read-only mapping under some of ${N} schedules`, () => {
    const r = sweep({ engine, runner, props } as unknown as Model, N);
    assert.ok(r.hits > 0, 'the race window was never reached');
    assert.match(r.messages[0]!, /^data-integrity: P1\.T0 write r1\[0\]\.1=2 .* succeeded, but the page was not mapped writable/);
  });

  it(`with the fix, none of the ${N} schedules does`, async () => {
    const ws = Workspace.create(readFileSync(FIX, 'utf8'), FIX);
    try {
      const [e, r, p] = await Promise.all([ws.import<Engine>('engine/index.ts'), ws.import<Runner>('runner/index.ts'), ws.import<Props>('properties/index.ts')]);
      const res = sweep({ engine: e, runner: r, props: p }, N);
      assert.deepEqual(res.messages, []);
    } finally {
      ws.dispose();
    }
  });
});
