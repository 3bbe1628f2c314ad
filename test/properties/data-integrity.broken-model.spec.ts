import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Replay } from '../../engine/index.ts';
import { valueOf } from '../../engine/program/history.ts';
import type { Program } from '../../engine/program/ops.ts';
import { Workspace } from '../../mutation/workspace.ts';
import { history } from '../helpers/records.ts';
import { describeViolation, runChecked } from '../helpers/run.ts';
import { type Runner, type Executor, type Props, EFAULT, mmap, mprotect, read, write } from './data-integrity.setup.ts';

describe('properties: data-integrity checks access rights', () => {
  /*
   * Break the model on purpose, in patched copies (the model has no bug
   * switches): the MMU reads through a protnone PTE; the fault handler
   * refuses reads of read-only VMAs.
   */
  describe('on a broken model', function () {
    const cases = [
      {
        fixture: 'protnone-still-readable',
        program: [mmap('rw', 1), write(5), mprotect('none', 0, 1), read(), mprotect('r', 0, 1), read()],
        clean: [5, EFAULT, 5],
        message: /read r0\[0\]\.0 .* succeeded, but the page was not mapped readable while it ran: protection \{none\}/,
      },
      {
        fixture: 'read-needs-vm-write',
        program: [mmap('r', 1), read(), write(5)],
        clean: [0, EFAULT],
        message: /read r0\[0\]\.0 .* failed with EFAULT, but the page was mapped readable all the while: protection \{r\}/,
      },
    ] as const;

    for (const c of cases) {
      it(`${c.fixture}: a data-integrity violation, which a campaign finds with a small repro; the clean model passes`, async () => {
        const program: Program = { processes: [{ threads: [c.program] }] };
        const clean = runChecked(program, new Replay([]));
        assert.equal(clean.violation, undefined, describeViolation(clean));
        assert.deepEqual(
          clean.history.records.filter((x) => x.op.op === 'read' || x.op.op === 'write').map((x) => (x.result < 0 ? x.result : valueOf(x))),
          c.clean,
        );
        const ws = Workspace.create(readFileSync(`test/fixtures/${c.fixture}.patch`, 'utf8'), `${c.fixture}.patch`);
        try {
          const ex = await ws.import<Executor>('engine/program/executor.ts');
          const props = await ws.import<Props>('properties/index.ts');
          const sched = await ws.import<typeof import('../../engine/index.ts')>('engine/index.ts');
          const runner = await ws.import<Runner>('runner/index.ts');
          const r = ex.runProgram(program, { strategy: new sched.Replay([]), hooks: props.hooksFor(props.properties) });
          assert.equal(r.violation?.property, 'data-integrity', describeViolation(r));
          assert.match(r.violation.message, c.message);
          const ops = ['mmap', 'read', 'write', 'mprotect', 'mremap', 'fork', 'munmap', 'madvise'] as const;
          const f = runner.fuzz({ runs: 5000, seed: 1, continueOnFailure: false, program: { ops } });
          assert.equal(f.violations.length, 1, `not found in ${f.runs} runs`);
          assert.equal(f.violations[0]!.property, 'data-integrity');
          assert.ok(f.violations[0]!.shrink.ops <= 5, `repro has ${f.violations[0]!.shrink.ops} ops`);
        } finally {
          ws.dispose();
        }
      });
    }
  });
});
