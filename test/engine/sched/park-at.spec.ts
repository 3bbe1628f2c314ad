import assert from 'node:assert/strict';
import { ParkAt, Replay, WaitQueue, type KGen } from '../../../engine/index.ts';
import { runToy, seeds } from '../toy.ts';

/**
 * A window that opens at one lockless step and must stay open through the
 * other side's sleep: A reads a slot (the window), then uses what it read; B
 * frees the slot, but only after a sleep (a grace period) during which a
 * third task C runs. B must run its whole free between A's read and A's use.
 */
function parkedWindow(): { bodies: Record<string, () => KGen>; hit: () => boolean } {
  const s = { slot: 1, freed: false, hit: false, gp: false };
  const gp = new WaitQueue('grace period');
  function* a(): KGen {
    for (let i = 0; i < 20; i++) yield 'a: pad';
    const v = s.slot;
    yield 'a: read slot';
    if (v === 1 && s.freed) s.hit = true;
    for (let i = 0; i < 20; i++) yield 'a: pad';
  }
  function* b(): KGen {
    yield 'b: start';
    s.gp = true;
    // Sleeps until C ends the grace period: a block of B's, where who runs next is free.
    while (s.gp) yield gp;
    s.freed = true;
    yield 'b: freed';
  }
  function* c(): KGen {
    for (let i = 0; i < 3; i++) yield 'c: pad';
    s.gp = false;
    gp.wakeAll();
    yield 'c: gp done';
  }
  return { bodies: { a, b, c }, hit: () => s.hit };
}

describe('engine/sched: park-at', () => {
  it('replays the prefix exactly: before its step it chooses as Replay does', () => {
    const switches = [
      { step: 2, task: 1 },
      { step: 5, task: 0 },
    ];
    const p = new ParkAt(switches, 9, 3);
    const r = new Replay(switches);
    for (let step = 0; step < 9; step++) {
      const runnable = [0, 1, 2];
      const current = step % 3;
      assert.equal(p.nextTask(runnable, current, step, false), r.nextTask(runnable, current, step, false), `step ${step}`);
    }
  });

  it('at its step hands the CPU to another task and keeps the preempted one off it while another can run', () => {
    for (const seed of seeds(50)) {
      const p = new ParkAt([], 4, seed);
      for (let step = 0; step < 4; step++) assert.equal(p.nextTask([0, 1, 2], 0, step, false), 0);
      const taker = p.nextTask([0, 1, 2], 0, 4, false);
      assert.notEqual(taker, 0, `seed ${seed}: the point did not preempt`);
      // The taker keeps the CPU while it can run.
      assert.equal(p.nextTask([0, 1, 2], taker, 5, false), taker);
      // It blocks: the third runs, not the parked task.
      const third = taker === 1 ? 2 : 1;
      for (let step = 6; step < 9; step++) assert.equal(p.nextTask([0, third], taker, step, false), third, `seed ${seed}`);
      // Alone, the parked task runs again.
      assert.equal(p.nextTask([0], third, 9, false), 0);
    }
  });

  it('does nothing at its step when no other task can run, and is deterministic for a seed', () => {
    const p = new ParkAt([], 0, 1);
    assert.equal(p.nextTask([0], 0, 0, false), 0);
    const a = new ParkAt([{ step: 1, task: 1 }], 3, 77);
    const b = new ParkAt([{ step: 1, task: 1 }], 3, 77);
    for (let step = 0; step < 12; step++) {
      const runnable = step % 4 === 3 ? [0, 2] : [0, 1, 2];
      assert.equal(a.nextTask(runnable, 1, step, step === 7), b.nextTask(runnable, 1, step, step === 7));
    }
  });

  it('parked at the lockless read, holds the window open through the other side\'s sleep (a replay of the same switch does not)', () => {
    // A runs first and reaches its read at step 21 (0-based steps 0..20 are its pads and the read).
    let parkedHits = 0;
    let replayHits = 0;
    for (const seed of seeds(40)) {
      const t = parkedWindow();
      runToy(new ParkAt([], 21, seed), t.bodies, { trace: false });
      if (t.hit()) parkedHits++;
      // The same preemption as a plain replay: B takes over at the read, blocks on its wait, and the
      // default rule gives the CPU back to A, the lowest id, which closes the window.
      const u = parkedWindow();
      runToy(new Replay([{ step: 21, task: 1 + (seed % 2) }]), u.bodies, { trace: false });
      if (u.hit()) replayHits++;
    }
    assert.ok(parkedHits >= 10, `parked: ${parkedHits} of 40 held the window open`);
    assert.equal(replayHits, 0, `replay: ${replayHits} of 40`);
  });
});
