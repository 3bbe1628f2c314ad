import assert from 'node:assert/strict';
import fc from 'fast-check';
import { programArb, resolveProgramOptions } from '../../generators/index.ts';
import { OPTION_SWARM, swarmDimensions, swarmOptions } from '../../generators/swarm.ts';

describe('generators: the swarm over program options', () => {
  it('every value of every dimension is a valid option, with one prior weight each', () => {
    for (const d of OPTION_SWARM) {
      assert.equal(d.values.length, d.weights.length, d.key);
      assert.ok(d.weights.every((w) => w > 0), d.key);
    }
    fc.assert(
      fc.property(fc.tuple(...OPTION_SWARM.map((d) => fc.nat(d.values.length - 1))), (choice) => {
        const o = swarmOptions(OPTION_SWARM, choice);
        const r = resolveProgramOptions(o.program);
        OPTION_SWARM.forEach((d, i) => assert.equal((d.of === 'program' ? r : o.schedule)[d.key as never], d.values[choice[i]!]));
        // A program of that shape can be drawn.
        assert.ok(fc.sample(programArb(o.program), { numRuns: 1, seed: choice.length })[0]!.processes.length >= 1);
      }),
      { numRuns: 50 },
    );
  });

  it('leaves out the options a campaign fixes, and keeps them as given', () => {
    const dims = swarmDimensions({ maxThreads: 1, ops: ['mmap', 'write'] }, { pbSteps: 64 });
    assert.ok(!dims.some((d) => d.key === 'maxThreads' || d.key === 'pbSteps'));
    const o = swarmOptions(dims, dims.map(() => 0), { maxThreads: 1, ops: ['mmap', 'write'] }, { pbSteps: 64 });
    assert.equal(o.program.maxThreads, 1);
    assert.deepEqual(o.program.ops, ['mmap', 'write']);
    assert.equal(o.schedule.pbSteps, 64);
  });
});
