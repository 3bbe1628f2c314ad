import assert from 'node:assert/strict';
import {
  Execution,
  Mutex,
  Pct,
  RandomWalk,
  Replay,
  cond_resched,
  mutex_lock,
  mutex_unlock,
  report,
  type KGen,
} from '../../../engine/index.ts';
import { runToy, seeds } from '../toy.ts';

/** Two tasks increment a shared counter without a lock: the classic lost update. */
function lostUpdate(): { bodies: Record<string, () => KGen>; final: () => number } {
  const shared = { x: 0 };
  function* inc(): KGen {
    yield 'read x';
    const v = shared.x;
    yield 'write x';
    shared.x = v + 1;
  }
  return { bodies: { A: inc, B: inc }, final: () => shared.x };
}

describe('engine/sched: execution', () => {
  it('random walk finds the lost update', () => {
    const found = seeds(50).filter((s) => {
      const t = lostUpdate();
      runToy(new RandomWalk(s), t.bodies);
      return t.final() === 1;
    });
    assert.ok(found.length > 0, 'no seed lost an update');
  });

  it('PCT finds the lost update', () => {
    const found = seeds(50).filter((s) => {
      const t = lostUpdate();
      runToy(new Pct({ seed: s, depth: 2, maxSteps: 6 }), t.bodies);
      return t.final() === 1;
    });
    assert.ok(found.length > 0, 'no seed lost an update');
  });

  it('records only the switches that differ from the default rule, and replays them', () => {
    const t1 = lostUpdate();
    const r1 = runToy(new RandomWalk(3), t1.bodies);
    for (const sw of r1.schedule) assert.ok(sw.task >= 0 && sw.step >= 0);
    const t2 = lostUpdate();
    const r2 = runToy(new Replay(r1.schedule), t2.bodies);
    assert.equal(r2.trace!.toText(), r1.trace!.toText());
    assert.equal(t2.final(), t1.final());
  });

  it('replay falls back to the lowest runnable id when the named task cannot run', () => {
    const t = lostUpdate();
    // Task 7 does not exist, task 1 is done by step 5: both switches are ignored.
    const r = runToy(new Replay([{ step: 1, task: 7 }, { step: 5, task: 1 }]), t.bodies);
    assert.equal(r.violation, undefined);
    assert.equal(t.final(), 2);
    assert.deepEqual(r.schedule, []);
  });

  it('an exhausted step budget is a liveness violation naming the task', () => {
    function* spinner(): KGen {
      for (;;) yield* cond_resched();
    }
    function* worker(): KGen {
      yield 'work';
    }
    const r = runToy(new RandomWalk(1), { worker, spinner }, { maxSteps: 100 });
    assert.equal(r.violation?.property, 'liveness');
    assert.match(r.violation!.message, /spinner#1 made no progress/);
  });

  it('a thrown violation stops the run at its step and marks it in the trace', () => {
    function* bug(): KGen {
      yield 'one';
      yield 'two';
      report('kernel-bug', 'kernel BUG at toy: two');
    }
    const r = runToy(new RandomWalk(1), { bug });
    assert.deepEqual(r.violation, { property: 'kernel-bug', message: 'kernel BUG at toy: two', step: 2, task: 'bug' });
    assert.match(r.trace!.toLanes({ mark: 2 }), />>\s+2 two \{VIOLATION\}/);
  });

  it('a JS error in a kernel path is an oops', () => {
    function* oops(): KGen {
      yield 'deref';
      const p = undefined as unknown as { x: number };
      p.x = 1;
    }
    const r = runToy(new RandomWalk(1), { oops });
    assert.equal(r.violation?.property, 'kernel-bug');
    assert.match(r.violation!.message, /^oops: TypeError/);
  });

  it('prints the trace as lanes, one column per task', () => {
    const t = lostUpdate();
    const r = runToy(new Replay([{ step: 1, task: 1 }]), t.bodies);
    const lanes = r.trace!.toLanes({ width: 12 });
    const lines = lanes.split('\n');
    assert.match(lines[0]!, /A\s+\| B/);
    assert.match(lines[2]!, /^\s+0 start/);
    assert.match(lines[3]!, /^\s+1 {14}\| start/);
  });

  it('fork-like spawning from inside a task runs the child', () => {
    const log: string[] = [];
    const ex = new Execution({ strategy: new RandomWalk(2) });
    ex.spawn('parent', function* (): KGen {
      yield 'fork';
      ex.spawn('child', function* (): KGen {
        yield 'child runs';
        log.push('child');
      });
      log.push('parent');
    });
    const r = ex.run();
    assert.equal(r.violation, undefined);
    assert.deepEqual([...log].sort(), ['child', 'parent']);
  });

  it('sleeping on a lock costs no steps', () => {
    const m = new Mutex('m');
    function* holder(): KGen {
      yield* mutex_lock(m);
      for (let i = 0; i < 20; i++) yield 'work';
      yield* mutex_unlock(m);
    }
    function* waiter(): KGen {
      yield* mutex_lock(m);
      yield* mutex_unlock(m);
    }
    const r = runToy(new RandomWalk(5), { holder, waiter });
    assert.equal(r.violation, undefined);
    // holder: 1 + 20 + 1 steps + 1 to finish; waiter: lock, unlock, finish, plus at most one failed try.
    assert.ok(r.steps <= 23 + 4, `took ${r.steps} steps`);
  });
});
