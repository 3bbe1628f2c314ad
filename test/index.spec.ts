// The README's "Write your own property" example, verbatim: the package
// imports itself by name ("exports" in package.json), as a user's test would.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatProgram, fuzz, makeStrategy, programArb, report, runProgram, scheduleArb, type Program, type Property } from 'mmfuzz';

/** Every value a program can store: what its writes carry, and the zero of fresh memory. */
function storedValues(p: Program): Set<number> {
  const values = new Set([0]);
  for (const proc of p.processes) for (const ops of proc.threads) for (const op of ops) if ('value' in op) values.add(op.value);
  return values;
}

// exec is left out: it fills the new stack with argument values of its own.
const ops = ['mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'read', 'write', 'fork', 'exit'] as const;

describe('my property: no value out of thin air', () => {
  it('a read returns zero or a value the program wrote', () => {
    fc.assert(
      fc.property(programArb({ ops }), scheduleArb(), (program, schedule) => {
        const r = runProgram(program, { strategy: makeStrategy(schedule) });
        const allowed = storedValues(program);
        for (const rec of r.history.records) {
          if (rec.kind === 'read' && rec.result >= 0) {
            assert.ok(allowed.has(rec.value!), `read returned ${rec.value} in\n${formatProgram(program)}`);
          }
        }
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  // The same check as a Property: a campaign shrinks what it finds to a
  // minimal program and interleaving, ready for the corpus.
  const noThinAir: Property = {
    name: 'no-thin-air',
    description: 'a read returns zero or a value the program wrote',
    afterOp(ctx, rec) {
      if (rec.kind === 'read' && rec.result >= 0 && !storedValues(ctx.program).has(rec.value!)) {
        report('no-thin-air', `${rec.thread} read ${rec.value}, which nobody wrote`);
      }
    },
  };

  it('holds over a campaign', () => {
    const r = fuzz({ runs: 300, seed: 1, properties: [noThinAir], program: { ops } });
    assert.deepEqual(r.violations.map((f) => f.message), []);
  });
});
