import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Op } from '../../engine/program/ops.ts';
import { GeneratorOptionsError, programArb, resolveProgramOptions } from '../../generators/index.ts';

const opsOf = (options: Parameters<typeof programArb>[0], seed: number): Op[] =>
  fc.sample(programArb(options), { numRuns: 300, seed }).flatMap((p) => [...p.processes.flatMap((q) => q.threads), ...(p.kthreads ?? [])].flat());

describe('generators: program options', () => {
  it('advice limits what madvise draws', () => {
    const ops = opsOf({ ops: ['mmap', 'madvise', 'read'], advice: ['WILLNEED', 'PAGEOUT'] }, 5);
    const advice = new Set(ops.flatMap((op) => (op.op === 'madvise' ? [op.advice] : [])));
    assert.deepEqual([...advice].sort(), ['PAGEOUT', 'WILLNEED']);
  });

  it('pinFlags holds the flags it names and draws the others', () => {
    const pins = opsOf({ ops: ['mmap', 'pin', 'write'], pinFlags: { fast: true, write: false } }, 6).flatMap((op) => (op.op === 'pin' ? [op] : []));
    assert.ok(pins.length > 50, `${pins.length} pins`);
    assert.ok(pins.every((p) => p.fast && !p.write));
    assert.deepEqual([...new Set(pins.map((p) => p.longterm))].sort(), [false, true], 'longterm is still drawn');
  });

  it('the defaults draw what they drew before the knobs existed: every advice, every pin flag', () => {
    const ops = opsOf({ ops: ['mmap', 'madvise', 'pin'] }, 7);
    assert.equal(new Set(ops.flatMap((op) => (op.op === 'madvise' ? [op.advice] : []))).size, 8);
    const pins = ops.flatMap((op) => (op.op === 'pin' ? [op] : []));
    for (const flag of ['write', 'fast', 'longterm'] as const) assert.equal(new Set(pins.map((p) => p[flag])).size, 2, flag);
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
