import assert from 'node:assert/strict';
import {
  Mutex,
  RandomWalk,
  Replay,
  Spinlock,
  mutex_lock,
  mutex_unlock,
  spin_lock,
  spin_lock_nested,
  spin_unlock,
  SINGLE_DEPTH_NESTING,
  type KGen,
} from '../../../engine/index.ts';
import { runToy, seeds } from '../toy.ts';

function abba(): Record<string, () => KGen> {
  const A = new Mutex('A');
  const B = new Mutex('B');
  return {
    T0: function* (): KGen {
      yield* mutex_lock(A);
      yield* mutex_lock(B);
      yield* mutex_unlock(B);
      yield* mutex_unlock(A);
    },
    T1: function* (): KGen {
      yield* mutex_lock(B);
      yield* mutex_lock(A);
      yield* mutex_unlock(A);
      yield* mutex_unlock(B);
    },
  };
}

describe('engine/locking: deadlock and lockdep', () => {
  it('finds an ABBA deadlock and prints its cycle', () => {
    const hit = seeds(40)
      .map((s) => runToy(new RandomWalk(s), abba()).violation)
      .find((v) => v?.property === 'deadlock');
    assert.ok(hit, 'no seed deadlocked');
    assert.match(hit.message, /T\d#\d waits for [AB] held by T\d#\d .* -> T\d#\d waits for [AB] held by T\d#\d .* -> back to/);
  });

  it('lockdep reports the inversion on a run that did not deadlock', () => {
    // Default rule, no switches: T0 runs to completion, then T1 takes B then A.
    const r = runToy(new Replay([]), abba());
    assert.equal(r.violation?.property, 'lock-order');
    assert.match(r.violation!.message, /possible circular locking dependency: T1#1 takes A .* while holding B/);
    assert.match(r.violation!.message, /earlier T0#0 took B .* while holding A/);
  });

  it("an inversion of the kernel's documented order is reported though the run takes the locks one way only", () => {
    // One task, one order: nothing in this run contradicts it but mm/rmap.c's
    // "Lock ordering in mm", which puts mmap_lock above anon_vma->rwsem.
    const anon = new Mutex('anon_vma_lock(av#1)', 'anon_vma->rwsem');
    const mmap = new Mutex('mmap_lock(mm#1)', 'mmap_lock');
    const r = runToy(new Replay([]), {
      T0: function* (): KGen {
        yield* mutex_lock(anon);
        yield* mutex_lock(mmap);
        yield* mutex_unlock(mmap);
        yield* mutex_unlock(anon);
      },
    });
    assert.equal(r.violation?.property, 'lock-order');
    assert.match(r.violation!.message, /T0#0 takes mmap_lock .* while holding anon_vma->rwsem/);
    assert.match(r.violation!.message, /documented order \(mm\/rmap\.c, "Lock ordering in mm"\) takes mmap_lock before/);
  });

  it('the documented order itself is no violation', () => {
    const mmap = new Mutex('mmap_lock(mm#1)', 'mmap_lock');
    const anon = new Mutex('anon_vma_lock(av#1)', 'anon_vma->rwsem');
    const r = runToy(new Replay([]), {
      T0: function* (): KGen {
        yield* mutex_lock(mmap);
        yield* mutex_lock(anon);
        yield* mutex_unlock(anon);
        yield* mutex_unlock(mmap);
      },
    });
    assert.equal(r.violation, undefined);
    assert.equal(r.steps, 5, "four lock operations and the return");
  });

  it('unlocking a lock one does not hold is a violation', () => {
    const m = new Mutex('m');
    const r = runToy(new RandomWalk(1), {
      T: function* (): KGen {
        yield* mutex_unlock(m);
      },
    });
    assert.equal(r.violation?.property, 'lock-order');
    assert.match(r.violation!.message, /bad unlock balance: T#0 releases m/);
  });

  it('exiting while holding a lock is a violation', () => {
    const m = new Mutex('m');
    const r = runToy(new RandomWalk(1), {
      T: function* (): KGen {
        yield* mutex_lock(m);
      },
    });
    assert.equal(r.violation?.property, 'lock-order');
    assert.match(r.violation!.message, /exited holding m/);
  });

  it('two locks of one class need a nesting subclass', () => {
    const src = new Spinlock('src ptl', 'ptlock');
    const dst = new Spinlock('dst ptl', 'ptlock');
    const bad = runToy(new RandomWalk(1), {
      T: function* (): KGen {
        yield* spin_lock(dst);
        yield* spin_lock(src);
        yield* spin_unlock(src);
        yield* spin_unlock(dst);
      },
    });
    assert.match(bad.violation?.message ?? '', /possible recursive locking/);
    const src2 = new Spinlock('src ptl', 'ptlock');
    const dst2 = new Spinlock('dst ptl', 'ptlock');
    const good = runToy(new RandomWalk(1), {
      T: function* (): KGen {
        yield* spin_lock(dst2);
        yield* spin_lock_nested(src2, SINGLE_DEPTH_NESTING);
        yield* spin_unlock(src2);
        yield* spin_unlock(dst2);
      },
    });
    assert.equal(good.violation, undefined);
  });

  it('taking a sleeping lock under a spinlock is a kernel bug', () => {
    const s = new Spinlock('s');
    const m = new Mutex('m');
    const r = runToy(new RandomWalk(1), {
      T: function* (): KGen {
        yield* spin_lock(s);
        yield* mutex_lock(m);
      },
    });
    assert.equal(r.violation?.property, 'kernel-bug');
    assert.match(r.violation!.message, /sleeping function called from invalid context/);
  });
});
