import assert from 'node:assert/strict';
import { Pct, type KGen } from '../../../engine/index.ts';
import { runToy, seeds } from '../toy.ts';

/**
 * A depth-2 bug: B must read `flag` after A sets it and before A clears it
 * (two ordering constraints). A pads both sides of a short window.
 */
function depthTwo(): { bodies: Record<string, () => KGen>; hit: () => boolean } {
  const s = { flag: 0, hit: false };
  function* a(): KGen {
    for (let i = 0; i < 5; i++) yield 'pad';
    yield 'set flag';
    s.flag = 1;
    yield 'window';
    yield 'window';
    yield 'clear flag';
    s.flag = 0;
    for (let i = 0; i < 5; i++) yield 'pad';
  }
  function* b(): KGen {
    yield 'read flag';
    if (s.flag === 1) s.hit = true;
  }
  return { bodies: { a, b }, hit: () => s.hit };
}

describe('engine/sched: PCT', () => {
  it('finds a depth-2 bug at least as often as 1/(n·k) over fixed seeds', () => {
    const k = 16;
    const runs = 400;
    let hits = 0;
    let bound = 0;
    for (const seed of seeds(runs)) {
      const pct = new Pct({ seed, depth: 2, maxSteps: k });
      const t = depthTwo();
      runToy(pct, t.bodies, { trace: false });
      if (t.hit()) hits++;
      bound = pct.stats.bound;
    }
    assert.equal(bound, 1 / (2 * k));
    assert.ok(hits / runs >= bound, `PCT hit ${hits}/${runs}, bound ${bound}`);
  });

  it('reports n, k and d', () => {
    const pct = new Pct({ seed: 1, depth: 3, maxSteps: 50 });
    const t = depthTwo();
    runToy(pct, t.bodies);
    assert.deepEqual(pct.stats, { n: 2, k: 50, d: 3, bound: 1 / (2 * 50 * 50) });
    assert.equal(pct.describe(), 'pct(seed=1,n=2,k=50,d=3)');
  });

  it('rejects a depth below 1', () => {
    assert.throws(() => new Pct({ seed: 1, depth: 0, maxSteps: 5 }), /depth must be an integer >= 1/);
  });
});
