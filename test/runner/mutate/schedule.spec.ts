import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Prng } from '../../../engine/sched/prng.ts';
import { scheduleArb } from '../../../generators/index.ts';
import { mutateSchedule } from '../../../runner/mutate/schedule.ts';

const switches = fc.uniqueArray(fc.record({ step: fc.nat(200), task: fc.nat(5) }), { selector: (s) => s.step, maxLength: 10 }).map((s) => s.sort((a, b) => a.step - b.step));

describe('runner/mutate: schedule mutations', () => {
  it('a mutant is a valid schedule: switches one per step in order, bounds within the cap', () => {
    fc.assert(
      fc.property(scheduleArb(), switches, fc.nat(), fc.integer({ min: 2, max: 10 }), (spec, recorded, seed, cap) => {
        const before = JSON.stringify({ spec, recorded });
        const m = mutateSchedule({ spec, recorded, steps: 200, tasks: 6 }, new Prng(seed), cap);
        assert.equal(JSON.stringify({ spec, recorded }), before, 'the parent changed');
        if (m.kind === 'replay') {
          for (let i = 1; i < m.switches.length; i++) assert.ok(m.switches[i]!.step > m.switches[i - 1]!.step, 'switches out of order');
          for (const s of m.switches) assert.ok(s.step >= 0 && s.task >= 0 && s.task < 6);
        }
        if (m.kind === 'pb') assert.ok(m.preemptions >= 1 && m.preemptions <= Math.max(cap, spec.kind === 'pb' ? spec.preemptions : 0));
        if (m.kind === 'pct') assert.ok(m.depth >= 1 && m.depth <= Math.max(cap, spec.kind === 'pct' ? spec.depth : 0));
      }),
      { seed: 4, numRuns: 400 },
    );
  });

  it('deepening reaches the cap: repeated mutation of a preemption-bounded schedule gets to 5 preemptions and more', () => {
    let s = { kind: 'pb' as const, seed: 1, preemptions: 1, maxSteps: 128 } as Parameters<typeof mutateSchedule>[0]['spec'];
    const rng = new Prng(9);
    let deepest = 1;
    for (let i = 0; i < 400; i++) {
      const m = mutateSchedule({ spec: s, recorded: [], steps: 100, tasks: 3 }, rng, 8);
      if (m.kind === 'pb') {
        s = m;
        deepest = Math.max(deepest, m.preemptions);
      }
    }
    assert.ok(deepest >= 5, `deepest bound reached: ${deepest}`);
  });

  it('a parking mutant replays the parent up to one of its points, drawn uniformly over the points, not the steps', () => {
    const recorded = [
      { step: 3, task: 1 },
      { step: 40, task: 0 },
      { step: 100, task: 2 },
    ];
    const points = Uint32Array.from([5, 50, 120, 121]);
    const rng = new Prng(11);
    const chosen = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const m = mutateSchedule({ spec: { kind: 'pb', seed: 1, preemptions: 1, maxSteps: 128 }, recorded, steps: 300, tasks: 3, points }, rng, 8);
      if (m.kind !== 'replay' || !m.park) continue;
      assert.ok(points.includes(m.park.step), `step ${m.park.step} is not a point`);
      assert.deepEqual(m.switches, recorded.filter((s) => s.step < m.park!.step), 'the prefix is not the recorded switches before the point');
      chosen.set(m.park.step, (chosen.get(m.park.step) ?? 0) + 1);
    }
    const counts = [...points].map((p) => chosen.get(p) ?? 0);
    const total = counts.reduce((a, b) => a + b, 0);
    // One schedule mutation in five parks at a point: about 400 of 2,000, a quarter at each point.
    assert.ok(total > 300 && total < 500, `parking mutants: ${total}`);
    for (const c of counts) assert.ok(c > total / 8, `a point drawn ${c} times of ${total}: ${counts.join(', ')}`);
  });

  it('without points (a parent replayed from a saved queue), no mutant parks', () => {
    const rng = new Prng(2);
    for (let i = 0; i < 300; i++) {
      const m = mutateSchedule({ spec: { kind: 'random', seed: 1 }, recorded: [{ step: 4, task: 1 }], steps: 50, tasks: 2 }, rng, 8);
      assert.ok(m.kind !== 'replay' || m.park === undefined);
    }
  });
});
