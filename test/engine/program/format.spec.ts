import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatOp, formatProgram } from '../../../engine/program/format.ts';
import type { Op } from '../../../engine/program/ops.ts';
import { programArb } from '../../../generators/index.ts';

describe('engine/program/format: programs as people read them', () => {
  it('names each op with its region, page, word and value', () => {
    const cases: [Op, string][] = [
      [{ op: 'mmap', region: 1, pages: 3, prot: 'r' }, 'mmap r1 3p r'],
      [{ op: 'write', region: 0, page: 2, word: 1, value: 7 }, 'write r0[2].1=7'],
      [{ op: 'read', region: 0, page: 2, word: 0 }, 'read r0[2].0'],
      [{ op: 'mremap', region: 1, pages: 4, maymove: true, fixedTo: 2 }, 'mremap r1 -> 4p maymove fixed@r2'],
      [{ op: 'mremap', region: 1, pages: 1, maymove: false }, 'mremap r1 -> 1p'],
      [{ op: 'madvise', region: 0, page: 0, pages: 2, advice: 'DONTNEED' }, 'madvise r0[0..+2] DONTNEED'],
      [{ op: 'pin', pin: 3, region: 0, page: 1, write: true, fast: true, longterm: false }, 'pin#3 r0[1] R/W fast'],
      [{ op: 'pinWrite', pin: 3, word: 1, value: 9 }, 'pinWrite #3.1=9'],
      [{ op: 'hugetlbMmap', region: 0, file: 1, hpage: 0, hpages: 2, prot: 'rw' }, 'mmap r0 = f1[0..+2]hp rw shared'],
      [{ op: 'fork', child: 2 }, 'fork P2'],
      [{ op: 'exit' }, 'exit'],
    ];
    for (const [op, text] of cases) assert.equal(formatOp(op), text);
  });

  it('a program is a line per thread, then its kernel threads, frames and fault mode', () => {
    const text = formatProgram({
      processes: [{ threads: [[{ op: 'mmap', region: 0, pages: 1, prot: 'rw' }, { op: 'fork', child: 1 }], []] }, { threads: [[{ op: 'exit' }]] }],
      kthreads: [[{ op: 'reclaim', victim: 0 }]],
      frames: 8,
      faultMode: 'spf',
    });
    assert.deepEqual(text.split('\n'), ['P0.T0: mmap r0 1p rw; fork P1', 'P0.T1: (no ops)', 'P1.T0: exit', 'K0: reclaim victim 0', 'frames: 8', 'faultMode: spf']);
  });

  it('every generated program formats every op, one line per thread', () => {
    fc.assert(
      fc.property(programArb(), (p) => {
        const lines = formatProgram(p).split('\n');
        const threads = p.processes.reduce((n, q) => n + q.threads.length, 0) + (p.kthreads?.length ?? 0);
        assert.equal(lines.filter((l) => /^(P\d+\.T\d+|K\d+): /.test(l)).length, threads);
        for (const op of [...p.processes.flatMap((q) => q.threads), ...(p.kthreads ?? [])].flat()) assert.doesNotMatch(formatOp(op), /undefined|NaN/);
      }),
    );
  });
});
