import assert from 'node:assert/strict';
import { fuzz } from '../../runner/index.ts';
import { swarmDimensions } from '../../generators/swarm.ts';
import { makeStrategy } from '../../generators/index.ts';
import { replayCase, runCase } from '../../runner/case.ts';

// Under mocha the model loads without branch counters (no load hook): the
// guided campaign runs on interleaving coverage only here; the counters are
// covered by coverage/workspace.spec.ts.
describe('runner: the coverage-guided campaign', () => {
  const o = { runs: 200, seed: 3, keepQueue: true } as const;

  it('is the default, keeps inputs that added coverage and runs mutants of them', () => {
    const r = fuzz(o);
    assert.equal(r.campaign, 'guided');
    const c = r.coverage!;
    assert.ok(c.features > 100, `${c.features} features`);
    assert.ok(c.queue > 10 && c.queue < r.runs, `queue of ${c.queue}`);
    assert.ok(c.mutants > r.runs / 2, `${c.mutants} mutants of ${r.runs} runs`);
    assert.ok(c.mutantsKept > 0, 'no mutant added coverage');
    assert.equal(r.queue!.length, c.queue);
    assert.deepEqual(r.violations, []);
  });

  it('is deterministic for a seed: the same queue and the same steps', () => {
    const a = fuzz(o);
    const b = fuzz(o);
    assert.equal(a.steps, b.steps);
    assert.deepEqual(a.queue, b.queue);
    assert.notDeepEqual(fuzz({ ...o, seed: 4 }).queue, a.queue);
  });

  it('replays a saved queue first, and the plain random campaign has no queue', () => {
    const saved = fuzz(o).queue!.slice(0, 20);
    const r = fuzz({ ...o, runs: 30, initialQueue: saved });
    assert.equal(r.coverage!.replayed, 20);
    assert.equal(r.queue![0]!.program, saved[0]!.program, 'the first replayed input added coverage and was queued first');
    const plain = fuzz({ runs: 50, seed: 3, campaign: 'random' });
    assert.equal(plain.campaign, 'random');
    assert.equal(plain.coverage, undefined);
  });

  it('draws every program shape unless the options fix it', () => {
    const open = swarmDimensions().map((d) => d.key);
    for (const k of ['vmaRace', 'faultMode', 'maxThreads', 'maxPages', 'maxOpsPerThread', 'pbSteps']) assert.ok(open.includes(k as never), k);
    const fixed = swarmDimensions({ vmaRace: true, faultMode: 'spf' }, { pbSteps: 64 }).map((d) => d.key);
    assert.deepEqual(open.filter((k) => !fixed.includes(k)), ['vmaRace', 'faultMode', 'pbSteps']);
    // The fresh draws of a campaign have the shapes: vma-race programs and speculative faults among them.
    const r = fuzz({ runs: 300, seed: 1, keepQueue: true });
    const programs = r.queue!.map((e) => e.program);
    assert.ok(programs.some((p) => p.faultMode === 'spf'), 'no speculative-fault program was queued');
    assert.ok(programs.some((p) => p.processes[0]!.threads.length === 3), 'no three-thread process was queued');
  });

  it('parks mutants at the preemption points their parents stopped at, and a parking input replays as it ran', () => {
    const r = fuzz({ runs: 400, seed: 3, keepQueue: true });
    const parking = r.queue!.filter((e) => e.schedule.kind === 'replay' && e.schedule.park !== undefined);
    assert.ok(parking.length > 0, `no parking mutant of ${r.queue!.length} queued inputs added coverage`);
    // Run again, it gives the run it gave; and its recorded switches, replayed plainly (what a corpus entry keeps), give it too.
    for (const e of parking.slice(0, 5)) {
      const a = runCase(e.program, makeStrategy(e.schedule), { properties: [] });
      const b = runCase(e.program, makeStrategy(e.schedule), { properties: [] });
      assert.equal(a.steps, b.steps);
      assert.deepEqual(a.schedule, b.schedule);
      const c = replayCase(e.program, a.schedule, { properties: [] });
      assert.equal(c.steps, a.steps, 'the recorded switches replay to another run');
      assert.deepEqual(c.schedule, a.schedule);
    }
  });
});
