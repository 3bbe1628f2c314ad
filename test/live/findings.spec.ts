import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ModelCache } from '../../corpus/model.ts';
import { entryChecks, replayEntry } from '../../corpus/replay.ts';
import { loadEntry } from '../../corpus/store.ts';
import * as engine from '../../engine/index.ts';
import * as props from '../../properties/index.ts';
import * as runner from '../../runner/index.ts';
import { PROJECT_ROOT, Workspace } from '../../mutation/workspace.ts';
import type { Engine, Model, Props, Runner } from '../engine/races/witness.ts';
import { VM_READ, VM_WRITE, type VmArea } from '../../engine/mm/mm_types.ts';
import { is_hugetlb_pt_page } from '../../engine/mm/hugetlb.ts';
import { HUGETLB_PROTNONE_RACE, sweep } from './hugetlb-race.ts';
import { OthersFirst } from './others-first.ts';

const DIR = join(PROJECT_ROOT, 'corpus', 'findings');
const STATUSES = ['kernel-confirmed', 'model-gap', 'open'];
const FIX = 'mutation/fixes/001-hugetlb-mprotect-flags-under-i-mmap-rwsem.patch';
const PROTNONE = 'liveness-b1adc04bc1.json';

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

  it(`${PROTNONE}: once every other task has run to its end, P0.T0 still faults forever on a protnone PTE of a PMD page it alone holds`, () => {
    const entry = loadEntry(join(DIR, PROTNONE));
    const f = (entry as unknown as { finding: Finding }).finding;
    assert.equal(f.status, 'kernel-confirmed');
    assert.equal(f.fix, FIX);
    // Step 312: P0.T0's read has just taken P1's PMD page (huge_pmd_share, steps 306-311) in
    // P1's mprotect(rw) window; from there P0.T0 runs only when no other task can.
    const from = 312;
    const r = runner.runCase(entry.program, new OthersFirst(entry.schedule, from, 0), { properties: entryChecks(entry), maxSteps: 20_000, trace: true });
    const names = r.trace!.taskNames;
    const ran = (task: string, label: RegExp, before: boolean) => r.trace!.entries.some((e) => names[e.task] === task && label.test(e.label) && e.step < from === before);
    assert.ok(ran('P0.T0', /^huge_pmd_share: hugetlb_walk/, true), 'P0.T0 did not look for a PMD page to share before the cut');
    assert.ok(ran('P1.T0', /^down_write\(i_mmap_rwsem/, false), "P1's hugetlb_change_protection did not take i_mmap_rwsem after P0 shared");
    assert.equal(r.violation?.property, 'liveness');
    assert.match(r.violation!.message, /P0\.T0#0 made no progress for 19\d{3} of its steps/);
    const users = r.context.execution.tasks.filter((t) => /^P\d+\.T\d+$/.test(t.name));
    assert.deepEqual(users.filter((t) => t.state !== 'done').map((t) => t.name), ['P0.T0']);
    // P0's rw VMA at 160 (f0 page 0) over a PMD page that only P0 holds, whose huge PTE is protnone.
    const mm = r.context.spaces[0]!.mm;
    const vma = mm.mmap.find((v: VmArea) => v.vm_start === 160)!;
    assert.equal(vma.vm_flags & (VM_READ | VM_WRITE), VM_READ | VM_WRITE);
    const table = mm.pgd[10]!;
    assert.ok(is_hugetlb_pt_page(table));
    assert.equal(table.pt_share_count, 1);
    assert.deepEqual(table.ptes[0], { kind: 'present', pfn: 4112, write: false, dirty: false, protnone: true });
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

  it(`${PROTNONE} runs to its end, with no violation, on the model with its fix`, async () => {
    const entry = loadEntry(join(DIR, PROTNONE));
    const r = replayEntry(entry, await models.get(FIX));
    assert.equal(r.verdict, 'passes');
    // P0.T0's last op, the read that spun on the clean model, returned.
    assert.ok(r.result.history.records.some((o) => o.kind === 'read' && o.thread === 'P0.T0' && o.index === 6 && o.result >= 0));
  });
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

  const M = 800;
  it(`the clean model lets P1's read of its rw mapping spin on P0's protnone PTEs forever under some of ${M} schedules (${PROTNONE})`, () => {
    const r = sweep({ engine, runner, props } as unknown as Model, M, HUGETLB_PROTNONE_RACE);
    assert.ok(r.hits > 0, 'the race window was never reached');
    for (const m of r.messages) assert.match(m, /^liveness: step budget of 5000 exhausted: P1\.T0#1 made no progress/);
  });

  it(`with the fix, none of the ${N} schedules of the first and none of the ${M} of the second does`, async () => {
    const ws = Workspace.create(readFileSync(FIX, 'utf8'), FIX);
    try {
      const [e, r, p] = await Promise.all([ws.import<Engine>('engine/index.ts'), ws.import<Runner>('runner/index.ts'), ws.import<Props>('properties/index.ts')]);
      assert.deepEqual(sweep({ engine: e, runner: r, props: p }, N).messages, []);
      assert.deepEqual(sweep({ engine: e, runner: r, props: p }, M, HUGETLB_PROTNONE_RACE).messages, []);
    } finally {
      ws.dispose();
    }
  });
});
