import assert from 'node:assert/strict';
import {
  RandomWalk,
  Replay,
  RwSemaphore,
  down_read,
  down_read_trylock,
  down_write,
  downgrade_write,
  up_read,
  up_write,
  type KGen,
} from '../../../engine/index.ts';
import { runToy, seeds } from '../toy.ts';

describe('engine/locking: rw_semaphore', () => {
  it('excludes writers from readers and from each other', () => {
    for (const seed of seeds(30)) {
      const sem = new RwSemaphore('sem');
      let inside = { r: 0, w: 0 };
      const bad: string[] = [];
      const check = (): void => {
        if (inside.w > 1 || (inside.w === 1 && inside.r > 0)) bad.push(`r=${inside.r} w=${inside.w}`);
      };
      const reader = function* (): KGen {
        yield* down_read(sem);
        inside.r++;
        check();
        yield 'read';
        inside.r--;
        yield* up_read(sem);
      };
      const writer = function* (): KGen {
        yield* down_write(sem);
        inside.w++;
        check();
        yield 'write';
        inside.w--;
        yield* up_write(sem);
      };
      const r = runToy(new RandomWalk(seed), { r1: reader, r2: reader, w1: writer, w2: writer });
      assert.equal(r.violation, undefined);
      assert.deepEqual(bad, []);
      inside = { r: 0, w: 0 };
    }
  });

  it('queues readers behind a waiting writer, so a recursive read can deadlock', () => {
    const sem = new RwSemaphore('sem');
    const bodies = {
      R: function* (): KGen {
        yield* down_read(sem);
        yield 'between';
        yield* down_read(sem);
        yield* up_read(sem);
        yield* up_read(sem);
      },
      W: function* (): KGen {
        yield* down_write(sem);
        yield* up_write(sem);
      },
    };
    // R takes it for read (steps 0,1), W queues (steps 2,3), R reads again.
    const r = runToy(new Replay([{ step: 2, task: 1 }, { step: 4, task: 0 }]), bodies);
    assert.equal(r.violation?.property, 'deadlock');
  });

  it('downgrade_write lets readers in and keeps the caller a reader', () => {
    const sem = new RwSemaphore('sem');
    let readerGotIn = false;
    const r = runToy(new Replay([{ step: 3, task: 1 }]), {
      W: function* (): KGen {
        yield* down_write(sem);
        yield* downgrade_write(sem);
        yield 'reading';
        yield 'reading';
        yield* up_read(sem);
      },
      R: function* (): KGen {
        readerGotIn = yield* down_read_trylock(sem);
        if (readerGotIn) yield* up_read(sem);
      },
    });
    assert.equal(r.violation, undefined);
    assert.ok(readerGotIn);
  });
});
