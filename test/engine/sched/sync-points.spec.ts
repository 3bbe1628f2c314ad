import assert from 'node:assert/strict';
import { Mutex, mutex_lock, mutex_unlock, Pct, PreemptionBounded, Spinlock, spin_lock, spin_unlock, SyncClock, type ExecutionResult, type KGen, type Strategy, type SyncKind } from '../../../engine/index.ts';
import { runToy, seeds } from '../toy.ts';

/** Two tasks that take and drop a spinlock and a mutex, with plain steps between. */
function lockers(): Record<string, () => KGen> {
  const spin = new Spinlock('L');
  const mutex = new Mutex('M');
  function* body(): KGen {
    for (let i = 0; i < 4; i++) {
      yield 'pad';
      yield* spin_lock(spin);
      yield 'inside L';
      yield* spin_unlock(spin);
      yield 'pad';
      yield* mutex_lock(mutex);
      yield 'inside M';
      yield 'inside M';
      yield* mutex_unlock(mutex);
    }
  }
  return { a: body, b: body };
}

/** The steps at which the running task was preempted (it could go on, and another ran). */
function preempted(inner: Strategy, bodies: Record<string, () => KGen>): { at: number[]; r: ExecutionResult } {
  const at: number[] = [];
  const s: Strategy = {
    nextTask(runnable, current, step, sleeping, syncs) {
      const next = inner.nextTask(runnable, current, step, sleeping, syncs);
      if (runnable.includes(current) && !sleeping && next !== current) at.push(step);
      return next;
    },
    onSpawn: (id) => inner.onSpawn?.(id),
    onYield: (id) => inner.onYield?.(id),
    describe: () => inner.describe(),
  };
  return { at, r: runToy(s, bodies) };
}

/** What the step before `step` did, as the preempted task ran it: its lock events, and the label it is parked at now. */
function before(r: ExecutionResult, step: number): { events: readonly string[]; parkedAt: string } {
  const e = r.trace!.entries;
  const prev = e[step - 1]!;
  const next = e.slice(step).find((x) => x.task === prev.task);
  return { events: prev.events, parkedAt: next?.label ?? 'exit' };
}

const AT: Record<SyncKind, (b: { events: readonly string[]; parkedAt: string }) => boolean> = {
  release: (b) => b.events.some((x) => x.startsWith('-')),
  acquire: (b) => b.events.some((x) => x.startsWith('+')),
  lock: (b) => /^(spin_lock|mutex_lock)\(/.test(b.parkedAt),
};

describe('engine/sched: points on synchronization events', () => {
  for (const kind of ['release', 'acquire', 'lock'] as const) {
    it(`preemption-bounded with at=${kind} preempts only in the step after a ${kind} event`, () => {
      let points = 0;
      for (const seed of seeds(150)) {
        const { at, r } = preempted(new PreemptionBounded({ seed, preemptions: 2, maxSteps: 12, at: [kind] }), lockers());
        assert.equal(r.violation, undefined);
        for (const step of at) {
          const b = before(r, step);
          assert.ok(AT[kind](b), `seed ${seed}: preempted at step ${step} after ${JSON.stringify(b)}`);
        }
        points += at.length;
      }
      // Most seeds' points fall inside the run (12 events of each kind in 16 per task).
      assert.ok(points > 150, `only ${points} preemptions in 150 runs`);
    });
  }

  it('PCT with at=release changes priorities only in the step after a release', () => {
    let points = 0;
    for (const seed of seeds(150)) {
      const { at, r } = preempted(new Pct({ seed, depth: 3, maxSteps: 12, at: ['release'] }), lockers());
      for (const step of at) assert.ok(AT.release(before(r, step)), `seed ${seed}: switched at step ${step}`);
      points += at.length;
    }
    assert.ok(points > 150, `only ${points} priority changes that preempted in 150 runs`);
  });

  it('on steps the same seeds preempt where no lock changed hands, too', () => {
    let elsewhere = 0;
    for (const seed of seeds(150)) {
      const { at, r } = preempted(new PreemptionBounded({ seed, preemptions: 2, maxSteps: 40 }), lockers());
      for (const step of at) if (!AT.release(before(r, step)) && !AT.acquire(before(r, step))) elsewhere++;
    }
    assert.ok(elsewhere > 50, `${elsewhere} step-clock preemptions away from lock events`);
  });

  it('is deterministic, counts each kind apart, and names its kinds', () => {
    const run = (): ExecutionResult => runToy(new PreemptionBounded({ seed: 9, preemptions: 2, maxSteps: 20, at: ['release', 'lock'] }), lockers());
    assert.deepEqual(run().schedule, run().schedule);
    assert.equal(run().trace!.toText(), run().trace!.toText());
    const clock = new SyncClock(['lock', 'release']);
    assert.equal(clock.now(99, [3, 5, 7]), 10, 'release (3) + lock (7), not acquire');
    assert.equal(new SyncClock(undefined).now(99, [3, 5, 7]), 99);
    assert.equal(new PreemptionBounded({ seed: 1, preemptions: 1, maxSteps: 8, at: ['lock', 'release'] }).describe(), 'preemption-bounded(seed=1,c=1,k=8,at=release+lock)');
    assert.equal(new Pct({ seed: 1, depth: 2, maxSteps: 8, at: ['acquire'] }).describe(), 'pct(seed=1,n=1,k=8,d=2,at=acquire)');
    assert.throws(() => new PreemptionBounded({ seed: 1, preemptions: 1, maxSteps: 8, at: ['unlock' as SyncKind] }), /unknown synchronization event kind "unlock"; use release, acquire, lock/);
  });
});
