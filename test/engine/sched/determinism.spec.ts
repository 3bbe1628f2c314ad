import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Mutex,
  Pct,
  RandomWalk,
  Replay,
  RwSemaphore,
  down_read,
  down_write,
  mutex_lock,
  mutex_unlock,
  up_read,
  up_write,
  type KGen,
  type Strategy,
} from '../../../engine/index.ts';
import { runToy } from '../toy.ts';

/** A toy op: touch a shared cell, or take and drop one of a few locks. */
type ToyOp = { kind: 'read' | 'write'; cell: number } | { kind: 'mutex'; lock: number } | { kind: 'rwsem'; write: boolean };

const toyOp: fc.Arbitrary<ToyOp> = fc.oneof(
  fc.record({ kind: fc.constantFrom('read' as const, 'write' as const), cell: fc.nat(2) }),
  fc.record({ kind: fc.constant('mutex' as const), lock: fc.nat(1) }),
  fc.record({ kind: fc.constant('rwsem' as const), write: fc.boolean() }),
);

/** Build fresh tasks for a toy program: every run gets its own state. */
function build(program: ToyOp[][]): { bodies: Record<string, () => KGen>; state: () => string } {
  const cells = [0, 0, 0];
  const mutexes = [new Mutex('m0'), new Mutex('m1')];
  const sem = new RwSemaphore('sem');
  const bodies: Record<string, () => KGen> = {};
  program.forEach((ops, t) => {
    bodies[`T${t}`] = function* (): KGen {
      for (const op of ops) {
        if (op.kind === 'read') {
          yield `read c${op.cell}`;
          cells[op.cell] = cells[op.cell]! + 0;
        } else if (op.kind === 'write') {
          yield `write c${op.cell}`;
          cells[op.cell] = cells[op.cell]! * 3 + t + 1;
        } else if (op.kind === 'mutex') {
          yield* mutex_lock(mutexes[op.lock]!);
          yield* mutex_unlock(mutexes[op.lock]!);
        } else if (op.kind === 'rwsem' && op.write) {
          yield* down_write(sem);
          yield* up_write(sem);
        } else {
          yield* down_read(sem);
          yield* up_read(sem);
        }
      }
    };
  });
  return { bodies, state: () => cells.join(',') };
}

const strategyArb: fc.Arbitrary<() => Strategy> = fc.oneof(
  fc.nat().map((seed) => () => new RandomWalk(seed)),
  fc.record({ seed: fc.nat(), depth: fc.integer({ min: 1, max: 4 }) }).map(({ seed, depth }) => () => new Pct({ seed, depth, maxSteps: 60 })),
);

describe('engine/sched: determinism', () => {
  it('replaying the recorded schedule gives the same trace, byte for byte', () => {
    fc.assert(
      fc.property(fc.array(fc.array(toyOp, { maxLength: 6 }), { minLength: 1, maxLength: 4 }), strategyArb, (program, strategy) => {
        const a = build(program);
        const first = runToy(strategy(), a.bodies);
        const b = build(program);
        const again = runToy(new Replay(first.schedule), b.bodies);
        assert.equal(again.trace!.toText(), first.trace!.toText());
        assert.deepEqual(again.violation, first.violation);
        assert.deepEqual(again.schedule, first.schedule);
        assert.equal(b.state(), a.state());
      }),
      { numRuns: 300 },
    );
  });

  it('the same strategy and seed give the same trace', () => {
    fc.assert(
      fc.property(fc.array(fc.array(toyOp, { maxLength: 6 }), { minLength: 1, maxLength: 4 }), fc.nat(), (program, seed) => {
        const one = runToy(new RandomWalk(seed), build(program).bodies);
        const two = runToy(new RandomWalk(seed), build(program).bodies);
        assert.equal(two.trace!.toText(), one.trace!.toText());
      }),
      { numRuns: 200 },
    );
  });
});
