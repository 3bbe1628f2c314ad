import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Pct, RandomWalk, Replay, kobject_freed, type Strategy } from '../../../engine/index.ts';
import { is_hugetlb_pt_page, type HugetlbPtPage } from '../../../engine/mm/hugetlb.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { runProgram, type RunContext, type RunResult } from '../../../engine/program/executor.ts';
import { valueOf, type OpRecord } from '../../../engine/program/history.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { programArb } from '../../../generators/index.ts';
import { hooksFor, properties } from '../../../properties/index.ts';
import { describeViolation, reads, runChecked } from '../../helpers/run.ts';

/** Sequential: the default rule runs each task to completion, lowest id first. */
const seq = (p: Program): RunResult => {
  const r = runChecked(p, new Replay([]));
  assert.equal(r.violation, undefined, describeViolation(r));
  return r;
};

const map = (hpages = 1, hpage = 0, file = 0, region = 0): Op => ({ op: 'hugetlbMmap', region, file, hpage, hpages, prot: 'rw' });
const rd = (page: number, word = 0, region = 0): Op => ({ op: 'read', region, page, word });
const wr = (page: number, value: number, word = 0, region = 0): Op => ({ op: 'write', region, page, word, value });

describe('engine/mm/hugetlb: sequential semantics of shared hugetlbfs mappings', () => {
  it("a fork's child and its parent see each other's writes to the shared file pages", () => {
    const r = seq({
      processes: [
        { threads: [[map(2), wr(0, 1), { op: 'fork', child: 1 }, wr(0, 2, 1)]] },
        { threads: [[rd(0), rd(0, 1), wr(1, 3), { op: 'fork', child: 2 }]] },
        { threads: [[rd(1), rd(0, 1)]] },
      ],
    });
    // The child runs after the parent finished: it reads the parent's write made after the fork.
    assert.deepEqual(reads(r, 'P1.T0'), [1, 2]);
    assert.deepEqual(reads(r, 'P2.T0'), [3, 2]);
  });

  it('data written through one mapping outlives munmap and is read by a process that maps the file later', () => {
    const r = seq({
      processes: [
        { threads: [[{ op: 'fork', child: 1 }, map(1), wr(0, 5), { op: 'munmap', region: 0, page: 0, pages: 1 }, rd(0)]] },
        { threads: [[map(1), rd(0), rd(0, 1)]] },
      ],
    });
    // The region handle is gone with the mapping.
    assert.deepEqual(reads(r, 'P0.T0'), ['err-22']);
    assert.deepEqual(reads(r, 'P1.T0'), [5, 0]);
  });

  it('a hole punch reads back zero in every process; the other huge pages keep their data', () => {
    const r = seq({
      processes: [
        { threads: [[map(2), wr(0, 1), wr(1, 2), { op: 'fork', child: 1 }, { op: 'hugetlbPunch', file: 0, hpage: 0, hpages: 1 }, rd(0), rd(1)]] },
        { threads: [[rd(0), rd(1), wr(0, 3), rd(0)]] },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), [0, 2]);
    assert.deepEqual(reads(r, 'P1.T0'), [0, 2, 3]);
  });

  it('truncate: a page beyond the end of the file cannot be faulted; grown again, it reads zero', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              map(2),
              wr(1, 7),
              { op: 'hugetlbTruncate', file: 0, hpages: 1 },
              rd(1),
              rd(0),
              { op: 'hugetlbTruncate', file: 0, hpages: 2 },
              rd(1),
              { op: 'hugetlbTruncate', file: 0, hpages: 5 },
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), ['err-14', 0, 0]);
    assert.equal(r.history.records.at(-1)!.result, -22, 'a file may not grow past the pool (no reservations)');
  });

  it('a read-only mapping of an empty file cannot fault; a writable one extends it; create refuses an existing file', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              { op: 'hugetlbMmap', region: 1, file: 1, hpage: 0, hpages: 1, prot: 'r' },
              rd(0, 0, 1),
              { op: 'hugetlbCreate', file: 0, hpages: 1 },
              { op: 'hugetlbCreate', file: 0, hpages: 1 },
              { op: 'hugetlbMmap', region: 0, file: 0, hpage: 1, hpages: 1, prot: 'rw' },
              rd(0),
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), ['err-14', 0]);
    assert.deepEqual(
      r.history.records.filter((x) => x.op.op === 'hugetlbCreate').map((x) => x.result),
      [0, -17],
    );
  });

  it('mprotect and munmap split a hugetlb mapping at huge page boundaries', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              map(2),
              wr(0, 1),
              wr(1, 2),
              { op: 'mprotect', region: 0, page: 1, pages: 1, prot: 'r' },
              wr(1, 3),
              rd(1),
              { op: 'mprotect', region: 0, page: 1, pages: 1, prot: 'rw' },
              wr(1, 4),
              { op: 'munmap', region: 0, page: 0, pages: 1 },
              rd(1),
              rd(0),
            ],
          ],
        },
      ],
    });
    assert.deepEqual(
      r.history.records.filter((x) => x.op.op === 'write').map((x) => x.result),
      [0, 0, -14, 0],
    );
    assert.deepEqual(reads(r, 'P0.T0'), [2, 4, 'err-14']);
  });

  it('DONTNEED zaps a hugetlb mapping but the file keeps the data; WIPEONFORK is refused', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              map(1),
              wr(0, 9),
              { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' },
              rd(0),
              { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'WIPEONFORK' },
              { op: 'mremap', region: 0, pages: 32, maymove: true },
              { op: 'pin', pin: 0, region: 0, page: 0, write: false, fast: true, longterm: false },
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), [9]);
    assert.deepEqual(
      r.history.records.slice(4).map((x) => x.result),
      [-22, -22, -14],
      'no WIPEONFORK, mremap or GUP of hugetlb VMAs in the model',
    );
  });
});

/** The page-table page in mm's slot for address, if any. */
function slotOf(ctx: RunContext, pid: number, address: number): HugetlbPtPage | undefined {
  const space = [...ctx.spaces].reverse().find((s) => s.pid === pid && !kobject_freed(s.mm) && s.mm.mm_users > 0);
  const table = space?.mm.pgd[pmd_index(address)];
  return table && is_hugetlb_pt_page(table) ? table : undefined;
}

describe('engine/mm/hugetlb: PMD sharing', () => {
  it('two processes mapping the same file page share one page-table page; munmap unshares and leaves the other mapped', () => {
    const program: Program = {
      processes: [
        { threads: [[map(1), wr(0, 5), { op: 'fork', child: 1 }, rd(0), rd(0)]] },
        { threads: [[rd(0), { op: 'munmap', region: 0, page: 0, pages: 1 }]] },
      ],
    };
    const props = hooksFor(properties);
    let found = false;
    for (let seed = 0; seed < 400 && !found; seed++) {
      const seen: { shared?: boolean; afterUnmap?: string } = {};
      const strategy: Strategy = seed % 2 ? new Pct({ seed, depth: 3, maxSteps: 300 }) : new RandomWalk(seed);
      const r = runProgram(program, {
        strategy,
        hooks: {
          ...props,
          afterOp(ctx: RunContext, rec: OpRecord) {
            props.afterOp?.(ctx, rec);
            if (rec.thread === 'P1.T0' && rec.kind === 'read') {
              const a = slotOf(ctx, 0, rec.addr!);
              const b = slotOf(ctx, 1, rec.addr!);
              seen.shared = a !== undefined && a === b && a.pt_share_count === 2;
            }
            if (rec.thread === 'P1.T0' && rec.kind === 'munmap' && seen.shared) {
              const a = slotOf(ctx, 0, rec.addr!);
              const b = slotOf(ctx, 1, rec.addr!);
              const pte = a?.ptes[0];
              seen.afterUnmap = `${a ? `P0 count ${a.pt_share_count} ${pte?.kind}` : 'P0 none'}, ${b ? 'P1 has a table' : 'P1 none'}`;
            }
          },
        },
      });
      assert.equal(r.violation, undefined, `seed ${seed}: ${describeViolation(r)}`);
      const recs = r.history.records;
      const unmap = recs.find((x) => x.thread === 'P1.T0' && x.op.op === 'munmap')!;
      const lastRead = recs.filter((x) => x.thread === 'P0.T0' && x.op.op === 'read').at(-1)!;
      if (!seen.shared || !seen.afterUnmap || unmap.end > lastRead.start) continue;
      found = true;
      assert.equal(seen.afterUnmap, 'P0 count 1 present, P1 none');
      assert.equal(valueOf(lastRead), 5);
    }
    assert.ok(found, 'no interleaving shared the page table and unmapped one sharer while the other still read');
  });

  it('page-table pages and vma_locks are all freed when the processes exit; the file keeps its pages', () => {
    const r = runChecked({
      processes: [
        { threads: [[map(2), wr(0, 1), wr(1, 2), { op: 'fork', child: 1 }, rd(0)]] },
        { threads: [[rd(0), rd(1)]] },
      ],
    });
    assert.equal(r.violation, undefined, describeViolation(r));
    assert.equal(r.context.execution.live.get('pte_table') ?? 0, 0);
    assert.equal(r.context.execution.live.get('hugetlb_vma_lock') ?? 0, 0);
    assert.equal(r.context.execution.live.get('hugetlb_folio'), 2);
  });
});

describe('engine/mm/hugetlb: concurrent programs', function () {
  this.timeout(120_000);
  const fork: Op = { op: 'fork', child: 1 };
  const punch: Op = { op: 'hugetlbPunch', file: 0, hpage: 0, hpages: 1 };
  const programs: Record<string, Program> = {
    'faults vs. hole punch in another process': {
      processes: [{ threads: [[map(2), fork, rd(0), wr(0, 1), rd(1)]] }, { threads: [[rd(0), punch, wr(0, 2), punch]] }],
    },
    'faults vs. truncate': {
      processes: [
        { threads: [[map(2), fork, wr(1, 1), rd(1), rd(0)]] },
        { threads: [[rd(1), { op: 'hugetlbTruncate', file: 0, hpages: 1 }, { op: 'hugetlbTruncate', file: 0, hpages: 2 }, wr(1, 2)]] },
      ],
    },
    'faults vs. munmap and exit of a sharer': {
      processes: [
        { threads: [[map(1), fork, rd(0), wr(0, 1), rd(0)], [rd(0), punch]] },
        { threads: [[rd(0), { op: 'munmap', region: 0, page: 0, pages: 1 }]] },
      ],
    },
    'faults vs. mprotect of a sharer': {
      processes: [
        { threads: [[map(1), fork, wr(0, 1), rd(0)]] },
        { threads: [[rd(0), { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'r' }, rd(0), { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'rw' }, wr(0, 2)]] },
      ],
    },
    'two threads fault while a third process punches': {
      processes: [
        { threads: [[map(2), fork, wr(0, 1), rd(1)], [wr(1, 2), rd(0)]] },
        { threads: [[punch, rd(0), { op: 'hugetlbPunch', file: 0, hpage: 1, hpages: 1 }]] },
      ],
    },
  };
  for (const [name, program] of Object.entries(programs)) {
    it(`${name}: no violation under random and PCT schedules`, () => {
      for (let seed = 0; seed < 150; seed++) {
        for (const strategy of [new RandomWalk(seed), new Pct({ seed, depth: 3, maxSteps: 300 })]) {
          const r = runChecked(program, strategy);
          assert.equal(r.violation, undefined, `${strategy.describe()}: ${describeViolation(r)}`);
        }
      }
    });
  }
});

describe('generators: hugetlb programs', () => {
  it('share file 0 from the start: r0 maps it and P1 is forked at once', () => {
    fc.assert(
      fc.property(programArb({ ops: ['hugetlbMmap', 'read', 'write', 'fork'], swarm: false, maxProcesses: 2 }), (p) => {
        const first = p.processes[0]!.threads[0]!;
        assert.deepEqual(first[0], { op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 2, prot: 'rw' });
        if (p.processes.length > 1) assert.deepEqual(first[1], { op: 'fork', child: 1 });
      }),
      { numRuns: 50 },
    );
  });
});
