import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Replay } from '../../engine/index.ts';
import { valueOf } from '../../engine/program/history.ts';
import type { Op, Program } from '../../engine/program/ops.ts';
import { Workspace } from '../../mutation/workspace.ts';
import { describeViolation, runChecked } from '../helpers/run.ts';
import type { Executor, Props } from './data-integrity.setup.ts';

const thp = (region: number): Op[] => [
  { op: 'mmap', region, pages: 16, prot: 'rw' },
  { op: 'madvise', region, page: 0, pages: 16, advice: 'HUGEPAGE' },
];

describe('properties: the huge zero folio stays zero', () => {
  /*
   * Break the model on purpose, in a patched copy (the model has no bug
   * switches): set_huge_zero_folio() maps the huge zero folio writable in a
   * writable VMA, so a write after a read lands in the folio every process
   * reads its empty THP ranges from.
   */
  const program: Program = {
    processes: [
      {
        threads: [
          [
            ...thp(0),
            { op: 'read', region: 0, page: 0, word: 0 },
            { op: 'write', region: 0, page: 1, word: 0, value: 5 },
            ...thp(1),
            { op: 'read', region: 1, page: 1, word: 0 },
          ],
        ],
      },
    ],
    frames: 48,
    zeroPage: true,
  };
  const values = (r: ReturnType<typeof runChecked>) => r.history.records.filter((x) => x.op.op === 'read' || x.op.op === 'write').map((x) => (x.result < 0 ? x.result : valueOf(x)));

  it('the clean model: the write COWs away from the huge zero folio, the other range reads 0', () => {
    const clean = runChecked(program, new Replay([]));
    assert.equal(clean.violation, undefined, describeViolation(clean));
    assert.deepEqual(values(clean), [0, 5, 0]);
  });

  it('huge-zero-writable: gup-pin-coherence catches the writable huge zero PMD; without it data-integrity sees the 5 in another range', async () => {
    const ws = Workspace.create(readFileSync('test/fixtures/huge-zero-writable.patch', 'utf8'), 'huge-zero-writable.patch');
    try {
      const ex = await ws.import<Executor>('engine/program/executor.ts');
      const props = await ws.import<Props>('properties/index.ts');
      const sched = await ws.import<typeof import('../../engine/index.ts')>('engine/index.ts');
      const r = ex.runProgram(program, { strategy: new sched.Replay([]), hooks: props.hooksFor(props.properties) });
      assert.equal(r.violation?.property, 'gup-pin-coherence', describeViolation(r));
      assert.match(r.violation.message, /maps the huge zero folio writable by its PMD/);
      const others = props.properties.filter((p) => p.name !== 'gup-pin-coherence');
      const d = ex.runProgram(program, { strategy: new sched.Replay([]), hooks: props.hooksFor(others) });
      assert.equal(d.violation?.property, 'data-integrity', describeViolation(d));
      assert.match(d.violation.message, /read r1\[1\]\.0 .* 5/);
    } finally {
      ws.dispose();
    }
  });
});
