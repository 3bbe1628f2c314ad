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
  it('hits a one-step window at least once in n·k runs, far more often than random walk', () => {
    const k = 32;
    const runs = 2000;
    const pb = hitRate((seed) => new PreemptionBounded({ seed, preemptions: 1, maxSteps: k }), runs);
    const walk = hitRate((seed) => new RandomWalk(seed), runs);
    // A must go first (1 in n) and be preempted at the window's step (1 in k).
    assert.ok(pb >= 1 / (2 * k), `preemption-bounded hit rate ${pb} below 1/(n·k) = ${1 / (2 * k)}`);
    assert.ok(pb > 4 * walk, `preemption-bounded ${pb} vs random walk ${walk}`);
  });

  it('preempts at most c times, each time to a task other than the one running', () => {
    for (const seed of seeds(200)) {
      const pb = new PreemptionBounded({ seed, preemptions: 2, maxSteps: 30 });
      const preemptions: number[] = [];
      const counting: Strategy = {
        nextTask(runnable, current, step, sleeping) {
          const next = pb.nextTask(runnable, current, step, sleeping);
          if (runnable.includes(current) && !sleeping && next !== current) preemptions.push(step);
          return next;
        },
        describe: () => pb.describe(),
      };
      runToy(counting, oneStepWindow().bodies);
      assert.ok(preemptions.length <= 2, `seed ${seed}: preempted at ${preemptions.join(', ')}`);
    }
  });

  it('runs the current task on where no preemption point falls, and is deterministic', () => {
    const run = (): ReturnType<typeof runToy> => runToy(new PreemptionBounded({ seed: 5, preemptions: 1, maxSteps: 10_000 }), oneStepWindow().bodies);
    const r = run();
    assert.deepEqual(run().schedule, r.schedule);
    // Only free choices: who goes first, and who follows a task that ended.
    assert.ok(r.schedule.length <= 2, JSON.stringify(r.schedule));
  });

  it('with park, keeps the preempted task off the CPU while another can run, and lets it back alone or after a sleep', () => {
    let drawnBack = 0;
    for (const seed of seeds(200)) {
      const make = (park: boolean): PreemptionBounded => new PreemptionBounded({ seed, preemptions: 1, maxSteps: 1, park });
      const parked = make(true);
      // Step 1 is the point: task 0, running, is preempted for 1 or 2.
      const taker = parked.nextTask([0, 1, 2], 0, 1, false, [0, 0, 0]);
      assert.notEqual(taker, 0);
      const third = taker === 1 ? 2 : 1;
      // The taker blocks: the parked task waits while the third can run, however often the choice comes.
      for (let step = 2; step < 6; step++) assert.equal(parked.nextTask([0, third], taker, step, false, [0, 0, 0]), third, `seed ${seed}`);
      // The third blocks too: the parked task runs, and is no longer parked.
      assert.equal(parked.nextTask([0], third, 6, false, [0, 0, 0]), 0);
      // A sleep in a wait loop ends the parking too (the sleeper may wait for the parked task).
      const slept = make(true);
      const t2 = slept.nextTask([0, 1, 2], 0, 1, false, [0, 0, 0]);
      slept.nextTask([0, 1, 2], t2, 2, true, [0, 0, 0]);
      // Without park the blocked taker's successor is drawn among all, the preempted task too.
      const plain = make(false);
      const t3 = plain.nextTask([0, 1, 2], 0, 1, false, [0, 0, 0]);
      if (plain.nextTask([0, t3 === 1 ? 2 : 1], t3, 2, false, [0, 0, 0]) === 0) drawnBack++;
    }
    assert.ok(drawnBack > 50, `without park the preempted task came back first in ${drawnBack} of 200`);
    assert.equal(new PreemptionBounded({ seed: 3, preemptions: 2, maxSteps: 64, park: true }).describe(), 'preemption-bounded(seed=3,c=2,k=64,park)');
  });

  it('describes itself and rejects bad bounds', () => {
    assert.equal(new PreemptionBounded({ seed: 3, preemptions: 2, maxSteps: 64 }).describe(), 'preemption-bounded(seed=3,c=2,k=64)');
    assert.throws(() => new PreemptionBounded({ seed: 1, preemptions: 0, maxSteps: 5 }), /preemptions must be an integer >= 1/);
    assert.throws(() => new PreemptionBounded({ seed: 1, preemptions: 1, maxSteps: 0 }), /maxSteps must be an integer >= 1/);
  });
});
