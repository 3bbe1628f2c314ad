import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Op, Program } from '../../engine/program/ops.ts';
import { GeneratorOptionsError, programArb, resolveProgramOptions } from '../../generators/index.ts';

const opsOfProgram = (p: Program): Op[] => [...p.processes.flatMap((q) => q.threads), ...(p.kthreads ?? [])].flat();
/** The ops of `runs` programs drawn from `seed`: what one campaign of that size sees. */
const opsOf = (options: Parameters<typeof programArb>[0], seed: number, runs = 300): Op[] => fc.sample(programArb(options), { numRuns: runs, seed }).flatMap(opsOfProgram);

describe('generators: program options', () => {
  it('advice limits what madvise draws, and every advice named is drawn', () => {
    const options = { ops: ['mmap', 'madvise', 'read'], advice: ['WILLNEED', 'PAGEOUT'] } as const;
    fc.assert(fc.property(programArb(options), (p) => opsOfProgram(p).every((op) => op.op !== 'madvise' || op.advice === 'WILLNEED' || op.advice === 'PAGEOUT')));
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const advice = new Set(opsOf(options, seed).flatMap((op) => (op.op === 'madvise' ? [op.advice] : [])));
        assert.deepEqual([...advice].sort(), ['PAGEOUT', 'WILLNEED']);
      }),
      { numRuns: 10 },
    );
  });

  it('pinFlags holds the flags it names and draws the others', () => {
    const options = { ops: ['mmap', 'pin', 'write'], pinFlags: { fast: true, write: false } } as const;
    fc.assert(fc.property(programArb(options), (p) => opsOfProgram(p).every((op) => op.op !== 'pin' || (op.fast && !op.write))));
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const pins = opsOf(options, seed).flatMap((op) => (op.op === 'pin' ? [op] : []));
        assert.ok(pins.length > 20, `${pins.length} pins`);
        assert.deepEqual([...new Set(pins.map((p) => p.longterm))].sort(), [false, true], 'longterm is still drawn');
      }),
      { numRuns: 10 },
    );
  });

  it('the defaults draw what they drew before the knobs existed: every advice, every pin flag', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const ops = opsOf({ ops: ['mmap', 'madvise', 'pin'] }, seed);
        assert.equal(new Set(ops.flatMap((op) => (op.op === 'madvise' ? [op.advice] : []))).size, 9);
        const pins = ops.flatMap((op) => (op.op === 'pin' ? [op] : []));
        for (const flag of ['write', 'fast', 'longterm'] as const) assert.equal(new Set(pins.map((p) => p[flag])).size, 2, flag);
      }),
      { numRuns: 10 },
    );
  });

  it('rejects what it does not know, naming the choices', () => {
    const bad: [object, RegExp][] = [
      [{ advise: ['COLD'] }, /unknown option "advise"; choose from .*advice/],
      [{ advice: [] }, /advice must name at least one madvise advice/],
      [{ advice: ['MERGEABLE'] }, /unknown advice "MERGEABLE"; choose from DONTNEED, WIPEONFORK/],
      [{ pinFlags: { pinned: true } }, /unknown pin flag "pinned"; choose from write, fast, longterm/],
      [{ pinFlags: [] }, /pinFlags must be an object/],
    ];
    for (const [o, why] of bad) assert.throws(() => resolveProgramOptions(o as never), (e: unknown) => e instanceof GeneratorOptionsError && why.test(e.message));
  });
});
