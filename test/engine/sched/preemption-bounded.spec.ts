import assert from 'node:assert/strict';
import { PreemptionBounded, RandomWalk, type KGen, type Strategy } from '../../../engine/index.ts';
import { runToy, seeds } from '../toy.ts';

/**
 * A one-step window: B must see `flag` set, over four of its own steps, all
 * between A's two stores. That is the shape of an rmap walk landing in
 * __split_vma()'s torn vm_pgoff/vm_start. A does other work on both sides,
 * so the window sits in the middle of a long path.
 */
function oneStepWindow(): { bodies: Record<string, () => KGen>; hit: () => boolean } {
  const s = { flag: 0, hit: false };
  function* a(): KGen {
    for (let i = 0; i < 10; i++) yield 'pad';
    s.flag = 1;
    yield 'between the stores';
    s.flag = 0;
    for (let i = 0; i < 10; i++) yield 'pad';
  }
  function* b(): KGen {
    for (let i = 0; i < 4; i++) yield 'pad';
    let seen = 0;
    for (let i = 0; i < 4; i++) {
      if (s.flag === 1) seen++;
      yield 'walk';
    }
    if (seen === 4) s.hit = true;
  }
  return { bodies: { a, b }, hit: () => s.hit };
}

function hitRate(make: (seed: number) => Strategy, runs: number): number {
  let hits = 0;
  for (const seed of seeds(runs)) {
    const t = oneStepWindow();
    runToy(make(seed), t.bodies, { trace: false });
    if (t.hit()) hits++;
  }
  return hits / runs;
}

describe('engine/sched: preemption-bounded', () => {
  it('hits a one-step window at least once in k·(n-1) runs, far more often than random walk', () => {
    const k = 32;
    const runs = 2000;
    const pb = hitRate((seed) => new PreemptionBounded({ seed, preemptions: 1, maxSteps: k }), runs);
    const walk = hitRate((seed) => new RandomWalk(seed), runs);
    assert.ok(pb >= 1 / k, `preemption-bounded hit rate ${pb} below 1/k = ${1 / k}`);
    assert.ok(pb > 4 * walk, `preemption-bounded ${pb} vs random walk ${walk}`);
  });

  it('is the default schedule where no preemption point falls: no switches recorded', () => {
    const t = oneStepWindow();
    // Points in [1, 1]: before the first choice with two tasks there is nothing to preempt at step 0.
    const r = runToy(new PreemptionBounded({ seed: 5, preemptions: 1, maxSteps: 10_000 }), t.bodies);
    const plain = runToy(new PreemptionBounded({ seed: 5, preemptions: 1, maxSteps: 10_000 }), oneStepWindow().bodies);
    assert.deepEqual(r.schedule, plain.schedule, 'deterministic');
    assert.ok(r.schedule.length <= 1, `at most one preemption, got ${JSON.stringify(r.schedule)}`);
  });

  it('preempts at most c times, each time to a task other than the one running', () => {
    for (const seed of seeds(200)) {
      const r = runToy(new PreemptionBounded({ seed, preemptions: 2, maxSteps: 30 }), oneStepWindow().bodies);
      assert.ok(r.schedule.length <= 2, `seed ${seed}: ${JSON.stringify(r.schedule)}`);
    }
  });

  it('describes itself and rejects bad bounds', () => {
    assert.equal(new PreemptionBounded({ seed: 3, preemptions: 2, maxSteps: 64 }).describe(), 'preemption-bounded(seed=3,c=2,k=64)');
    assert.throws(() => new PreemptionBounded({ seed: 1, preemptions: 0, maxSteps: 5 }), /preemptions must be an integer >= 1/);
    assert.throws(() => new PreemptionBounded({ seed: 1, preemptions: 1, maxSteps: 0 }), /maxSteps must be an integer >= 1/);
  });
});
