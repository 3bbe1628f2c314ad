import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeStrategy, scheduleArb } from '../../generators/index.ts';
import { GeneratorOptionsError } from '../../generators/errors.ts';

describe('generators: scheduleArb', () => {
  it('draws random walk, PCT and preemption-bounded schedules by default, from any seed', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const kinds = new Set(fc.sample(scheduleArb(), { numRuns: 200, seed }).map((s) => s.kind));
        assert.deepEqual([...kinds].sort(), ['pb', 'pct', 'random']);
      }),
      { numRuns: 20 },
    );
  });

  it('bounds preemption-bounded schedules by maxPreemptions and pbSteps', () => {
    fc.assert(
      fc.property(scheduleArb({ kinds: ['pb'], maxPreemptions: 3, pbSteps: 50, syncSteps: 0 }), (s) => {
        assert.equal(s.kind, 'pb');
        if (s.kind !== 'pb') return;
        assert.ok(s.preemptions >= 1 && s.preemptions <= 3);
        assert.equal(s.maxSteps, 50);
        assert.equal(makeStrategy(s).describe(), `preemption-bounded(seed=${s.seed},c=${s.preemptions},k=50${s.park ? ',park' : ''})`);
      }),
    );
    const parks = fc.sample(scheduleArb({ kinds: ['pb'] }), { numRuns: 400, seed: 5 }).filter((s) => s.kind === 'pb' && s.park).length;
    assert.ok(parks > 160 && parks < 240, `${parks} of 400 preemption-bounded schedules park`);
  });

  it('draws half of the PCT and preemption-bounded schedules on synchronization events, k = syncSteps per kind', () => {
    const specs = fc.sample(scheduleArb({ kinds: ['pct', 'pb'], syncSteps: 20, pbSteps: 128, pctSteps: 300 }), { numRuns: 400, seed: 3 });
    const onSyncs = specs.filter((s) => s.kind !== 'random' && s.kind !== 'replay' && s.at !== undefined);
    assert.ok(onSyncs.length > 160 && onSyncs.length < 240, `${onSyncs.length} of 400 on synchronization events`);
    const sets = new Set<string>();
    for (const s of onSyncs) {
      if (s.kind !== 'pb' && s.kind !== 'pct') continue;
      assert.ok(s.at!.length >= 1 && s.at!.length <= 3);
      assert.equal(s.maxSteps, 20 * s.at!.length);
      assert.match(makeStrategy(s).describe(), new RegExp(`,k=${s.maxSteps},.*at=${s.at!.join('\\+')}\\)$`));
      sets.add(`${s.kind}:${s.at!.join('+')}`);
    }
    // Every non-empty set of kinds, for both strategies.
    assert.equal(sets.size, 14, [...sets].join(' '));
    for (const s of specs) if ((s.kind === 'pb' || s.kind === 'pct') && s.at === undefined) assert.equal(s.maxSteps, s.kind === 'pb' ? 128 : 300);
  });

  it('rejects an unknown kind and bad bounds, saying what to use', () => {
    assert.throws(() => scheduleArb({ kinds: ['dfs' as never] }), (e: unknown) => e instanceof GeneratorOptionsError && /unknown schedule kind "dfs"; use random, pct, pb, replay/.test(e.message));
    assert.throws(() => scheduleArb({ kinds: [] }), GeneratorOptionsError);
    assert.throws(() => scheduleArb({ maxPreemptions: 0 }), /maxPreemptions must be a positive integer/);
    assert.throws(() => scheduleArb({ pbSteps: 1.5 }), /pbSteps must be a positive integer/);
    assert.throws(() => scheduleArb({ syncSteps: -1 }), /syncSteps must be a non-negative integer/);
  });
});
