import assert from 'node:assert/strict';
import {
  KObject,
  RandomWalk,
  call_rcu,
  kfree,
  rcu_read_lock,
  rcu_read_unlock,
  synchronize_rcu,
  type KGen,
} from '../../../engine/index.ts';
import { runToy, seeds } from '../toy.ts';

class Obj extends KObject {
  value = 42;
  constructor() {
    super('obj');
  }
}

type Free = 'now' | 'synchronize_rcu' | 'call_rcu';

/** What the reader saw: set when it used the object the updater frees after the updater had begun freeing it. */
interface Window {
  overlapped: boolean;
}

/** A reader dereferences an RCU-published pointer; an updater replaces and frees it. */
function publishAndFree(free: Free, w: Window = { overlapped: false }): Record<string, () => KGen> {
  const gp: { p: Obj | undefined } = { p: undefined };
  let freeing: Obj | undefined;
  return {
    updater: function* (): KGen {
      yield 'publish';
      gp.p = new Obj();
      yield 'unpublish';
      const old = gp.p;
      gp.p = new Obj();
      freeing = old; // the free begins: synchronize_rcu() waits from here, call_rcu() queues
      if (free === 'synchronize_rcu') yield* synchronize_rcu();
      yield 'free';
      if (free === 'call_rcu') call_rcu(() => kfree(old));
      else kfree(old);
    },
    reader: function* (): KGen {
      rcu_read_lock();
      yield 'rcu_dereference';
      const p = gp.p;
      yield 'use';
      if (p && p === freeing) w.overlapped = true;
      if (p) void p.value;
      rcu_read_unlock();
    },
  };
}

describe('engine/locking: RCU and KASAN', () => {
  it('a free during a reader section without a grace period is a use-after-free', () => {
    const v = seeds(60)
      .map((s) => runToy(new RandomWalk(s), publishAndFree('now')).violation)
      .find((x) => x !== undefined);
    assert.equal(v?.property, 'memory-safety');
    assert.match(v!.message, /use-after-free: read of obj#1\.value .* allocated at updater step \d+ .* freed at updater step/);
  });

  for (const free of ['synchronize_rcu', 'call_rcu'] as const) {
    it(`with ${free} it never is, though readers use the object after its free has begun`, () => {
      let overlapped = 0;
      for (const s of seeds(200)) {
        const w = { overlapped: false };
        const r = runToy(new RandomWalk(s), publishAndFree(free, w));
        assert.equal(r.violation, undefined, `seed ${s}: ${r.violation?.message}`);
        if (w.overlapped) overlapped++;
      }
      assert.ok(overlapped >= 10, `a reader used the old object inside the grace period in ${overlapped} of 200 runs`);
    });
  }

  it('a double free is reported', () => {
    const r = runToy(new RandomWalk(1), {
      T: function* (): KGen {
        const o = new Obj();
        yield 'free';
        kfree(o);
        yield 'free again';
        kfree(o);
      },
    });
    assert.equal(r.violation?.property, 'memory-safety');
    assert.match(r.violation!.message, /double-free of obj#1/);
  });

  it('leaving a task inside an RCU read-side section is a violation', () => {
    const r = runToy(new RandomWalk(1), {
      T: function* (): KGen {
        rcu_read_lock();
        yield 'forgot';
      },
    });
    assert.match(r.violation?.message ?? '', /exited inside an RCU read-side critical section/);
  });
});
