import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Workspace } from '../../../mutation/workspace.ts';
import { OPTION_SWARM } from '../../../generators/swarm.ts';
import { enableModelCoverage } from '../../../runner/coverage/enable.ts';

type Runner = typeof import('../../../runner/index.ts');

/**
 * The load hook instruments a copy of the model loaded after it is
 * registered (as the CLI registers it before loading the model). Here: a
 * patched copy (known-bad 009), whose campaign reports branch coverage and
 * the reach of the changed line.
 */
describe('runner/coverage: a campaign on an instrumented copy of the model', function () {
  let ws: Workspace;
  let runner: Runner;
  const patch = readFileSync('mutation/patches/009-migrate-temporary-stack.patch', 'utf8');

  before(async () => {
    enableModelCoverage();
    ws = Workspace.create(patch, '009');
    runner = await ws.import<Runner>('runner/index.ts');
  });
  after(() => ws.dispose());

  it('counts the branches of engine/mm, kernel and fs that ran, and the runs that reached the changed line', () => {
    // The ops that reach migration: what the default mix reaches is the bench's measure, not this spec's.
    const r = runner.fuzz({ runs: 150, seed: 1, patch, properties: [], program: { ops: ['mmap', 'read', 'write', 'exec', 'migrate'] } });
    const c = r.coverage!;
    assert.ok(c.branchSites > 1000, `${c.branchSites} branch sites`);
    assert.ok(c.branchesReached > 300 && c.branchesReached < c.branchSites, `${c.branchesReached} reached`);
    const reach = r.reach!;
    assert.equal(reach.sites, 1);
    const fn = reach.functions.find((f) => f.name === 'migrate.ts: try_to_migrate');
    assert.ok(fn, `changed functions: ${reach.functions.map((f) => f.name).join(', ')}`);
    assert.ok(reach.runs > 0 && reach.runs <= fn.runs, `${reach.runs} runs reached the line, ${fn.runs} entered the function`);
    assert.ok(fn.opKinds.includes('migrate'), `op kinds: ${fn.opKinds.join(', ')}`);
    // The runs that reached the changed line moved the directed draws' weights off their priors.
    const w = reach.shapes!.weights;
    assert.deepEqual(Object.keys(w.faultMode!).sort(), ['spf', 'vma-lock']);
    const moved = OPTION_SWARM.some((d) => d.values.some((v, i) => w[d.key]![String(v)] !== d.weights[i]));
    assert.ok(moved, 'the weights are still the priors');
  });
});
