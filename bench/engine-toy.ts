// Engine throughput on a toy workload: 4 tasks contending on a mutex and an
// rwsem, with unlocked reads between. Reports steps/s and ns/step beside the
// floor: a bare generator-resume loop timed in the same run.
import { Kernel, Mutex, RandomWalk, RwSemaphore, down_read, mutex_lock, mutex_unlock, up_read, type KGen } from '../engine/index.ts';

export interface EngineToyResult {
  readonly steps: number;
  readonly seconds: number;
  readonly stepsPerSec: number;
  readonly nsPerStep: number;
  readonly floorNsPerStep: number;
}

function toyExecution(seed: number): Kernel {
  const ex = new Kernel({ strategy: new RandomWalk(seed) });
  const m = new Mutex('m');
  const sem = new RwSemaphore('sem');
  const cell = { x: 0 };
  for (let t = 0; t < 4; t++) {
    ex.spawn(`T${t}`, function* (): KGen {
      for (let i = 0; i < 10; i++) {
        yield* mutex_lock(m);
        cell.x++;
        yield* mutex_unlock(m);
        yield* down_read(sem);
        yield 'read x';
        void cell.x;
        yield* up_read(sem);
      }
    });
  }
  return ex;
}

function floor(steps: number): number {
  function* g(): Generator<string, void, void> {
    for (let i = 0; i < steps; i++) yield 'x';
  }
  const it = g();
  const t0 = process.hrtime.bigint();
  while (!it.next().done);
  return Number(process.hrtime.bigint() - t0) / steps;
}

export function benchEngineToy(seconds = 2): EngineToyResult {
  let steps = 0;
  let seed = 0;
  const t0 = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() - t0 < limit) {
    for (let i = 0; i < 50; i++) steps += toyExecution(seed++).run().steps;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { steps, seconds: secs, stepsPerSec: steps / secs, nsPerStep: (secs * 1e9) / steps, floorNsPerStep: floor(steps) };
}
