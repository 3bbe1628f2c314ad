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
      fc.property(scheduleArb({ kinds: ['pb'], maxPreemptions: 3, pbSteps: 50 }), (s) => {
        assert.equal(s.kind, 'pb');
        if (s.kind !== 'pb') return;
        assert.ok(s.preemptions >= 1 && s.preemptions <= 3);
        assert.equal(s.maxSteps, 50);
        assert.equal(makeStrategy(s).describe(), `preemption-bounded(seed=${s.seed},c=${s.preemptions},k=50)`);
      }),
    );
  });

  it('rejects an unknown kind and bad bounds, saying what to use', () => {
    assert.throws(() => scheduleArb({ kinds: ['dfs' as never] }), (e: unknown) => e instanceof GeneratorOptionsError && /unknown schedule kind "dfs"; use random, pct, pb, replay/.test(e.message));
    assert.throws(() => scheduleArb({ kinds: [] }), GeneratorOptionsError);
    assert.throws(() => scheduleArb({ maxPreemptions: 0 }), /maxPreemptions must be a positive integer/);
    assert.throws(() => scheduleArb({ pbSteps: 1.5 }), /pbSteps must be a positive integer/);
  });
});
