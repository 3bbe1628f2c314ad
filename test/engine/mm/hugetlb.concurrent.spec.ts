import assert from 'node:assert/strict';
import { Pct, RandomWalk } from '../../../engine/index.ts';
import { type RunResult } from '../../../engine/program/executor.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { describeViolation, runChecked } from '../../helpers/run.ts';
import { map, rd, wr, kind } from './hugetlb.setup.ts';

describe('engine/mm/hugetlb: concurrent programs', function () {
  this.timeout(120_000);
  const fork: Op = { op: 'fork', child: 1 };
  const punch: Op = { op: 'hugetlbPunch', file: 0, hpage: 0, hpages: 1 };
  const truncate = (hpages: number): Op => ({ op: 'hugetlbTruncate', file: 0, hpages });
  const unmap: Op = { op: 'munmap', region: 0, page: 0, pages: 1 };
  const mprotect = (prot: 'r' | 'rw'): Op => ({ op: 'mprotect', region: 0, page: 0, pages: 1, prot });
  /** Each program, and the op kind that races the other process's faults. */
  const programs: Record<string, [Program, Op['op']]> = {
    'faults vs. hole punch in another process': [{ processes: [{ threads: [[map(2), fork, rd(0), wr(0, 1), rd(1)]] }, { threads: [[rd(0), punch, wr(0, 2), punch]] }] }, 'hugetlbPunch'],
    'faults vs. truncate': [{ processes: [{ threads: [[map(2), fork, wr(1, 1), rd(1), rd(0)]] }, { threads: [[rd(1), truncate(1), truncate(2), wr(1, 2)]] }] }, 'hugetlbTruncate'],
    'faults vs. munmap and exit of a sharer': [{ processes: [{ threads: [[map(1), fork, rd(0), wr(0, 1), rd(0)], [rd(0), punch]] }, { threads: [[rd(0), unmap]] }] }, 'munmap'],
    'faults vs. mprotect of a sharer': [{ processes: [{ threads: [[map(1), fork, wr(0, 1), rd(0)]] }, { threads: [[rd(0), mprotect('r'), rd(0), mprotect('rw'), wr(0, 2)]] }] }, 'mprotect'],
    'two threads fault while a third process punches': [
      { processes: [{ threads: [[map(2), fork, wr(0, 1), rd(1)], [wr(1, 2), rd(0)]] }, { threads: [[punch, rd(0), { op: 'hugetlbPunch', file: 0, hpage: 1, hpages: 1 }]] }] },
      'hugetlbPunch',
    ],
  };
  /** The race window: a successful `racer` op ran while a read or write of another process was between its first and last step. */
  const windowReached = (r: RunResult, racer: Op['op']): boolean => {
    const recs = r.history.records;
    const process = (thread: string) => thread.split('.')[0];
    return recs.some(
      (x) => x.op.op === racer && x.result >= 0 && recs.some((f) => (f.op.op === 'read' || f.op.op === 'write') && process(f.thread) !== process(x.thread) && f.start < x.end && x.start < f.end),
    );
  };
  for (const [name, [program, racer]] of Object.entries(programs)) {
    it(`${name}: under random and PCT schedules the ${racer} runs in the middle of a fault, and nothing is violated`, () => {
      let reached = 0;
      for (let seed = 0; seed < 150; seed++) {
        for (const strategy of [new RandomWalk(seed), new Pct({ seed, depth: 3, maxSteps: 300 })]) {
          const r = runChecked(program, strategy);
          assert.equal(r.violation, undefined, `${strategy.describe()}: ${describeViolation(r)}`);
          if (windowReached(r, racer)) reached++;
        }
      }
      assert.ok(reached >= 50, `the ${racer} overlapped a fault of the other process in ${reached} of 300 runs`);
    });
  }
});
