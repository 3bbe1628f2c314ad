import assert from 'node:assert/strict';
import { Replay, RandomWalk } from '../../../engine/index.ts';
import { runProgram } from '../../../engine/program/executor.ts';
import type { OpRecord } from '../../../engine/program/history.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';

const EINVAL = -22;
const EFAULT = -14;
const mmap = (region = 0, pages = 2): Op => ({ op: 'mmap', region, pages, prot: 'rw' });
const w = (page: number, value: number): Op => ({ op: 'write', region: 0, page, word: 0, value });
const r = (page: number, region = 0): Op => ({ op: 'read', region, page, word: 0 });
const seq = (p: Program) => runProgram(p, { strategy: new Replay([]) });
const of = (recs: readonly OpRecord[], thread: string) => recs.filter((x) => x.thread === thread);

describe('engine/program/executor: running a program', () => {
  it('records each op of a thread in order, with its result: an address, a value, 0, or -errno', () => {
    const res = seq({ processes: [{ threads: [[mmap(), w(1, 5), r(1), r(0), r(0, 3), { op: 'munmap', region: 0, page: 1, pages: 1 }, r(1)]] }] });
    assert.equal(res.violation, undefined);
    const recs = of(res.history.records, 'P0.T0');
    assert.deepEqual(recs.map((x) => x.index), [0, 1, 2, 3, 4, 5, 6]);
    assert.ok(recs[0]!.result > 0, 'mmap returns the address');
    const value = (x: OpRecord) => (x.kind === 'read' || x.kind === 'write' ? x.value : undefined);
    assert.deepEqual(
      recs.slice(1).map((x) => [x.kind, x.result, value(x)]),
      [['write', 0, 5], ['read', 0, 5], ['read', 0, 0], ['read', EINVAL, undefined], ['munmap', 0, undefined], ['read', EFAULT, undefined]],
      'a fresh page reads zero; region 3 does not exist; page 1 is unmapped',
    );
    for (const x of recs) assert.ok(x.start <= x.end);
  });

  it("a forked child's threads start when fork returns, in their own address space, with the parent's data", () => {
    const res = seq({ processes: [{ threads: [[mmap(), w(0, 7), { op: 'fork', child: 1 }, w(0, 8)]] }, { threads: [[r(0)], [r(0)]] }] });
    assert.equal(res.violation, undefined);
    const fork = res.history.records.find((x) => x.kind === 'fork')!;
    assert.ok(fork.kind === 'fork' && fork.result >= 0 && fork.newAs !== undefined);
    for (const t of ['P1.T0', 'P1.T1']) {
      const [read] = of(res.history.records, t);
      assert.ok(read!.start >= fork.end, `${t} started after fork returned`);
      assert.equal(read!.as, fork.newAs);
      assert.ok(read!.kind === 'read' && read.value === 7);
    }
  });

  it('threads of one process share one address space; kernel threads run with none', () => {
    const res = runProgram({ processes: [{ threads: [[mmap(), w(0, 1)], [r(0)]] }], kthreads: [[{ op: 'migrate', victim: 0 }]] }, { strategy: new RandomWalk(3) });
    assert.equal(res.violation, undefined);
    const [t0, t1, k0] = ['P0.T0', 'P0.T1', 'K0'].map((t) => of(res.history.records, t));
    assert.equal(t0![0]!.as, t1![0]!.as);
    assert.equal(k0![0]!.as, -1);
  });

  it('exit ends the thread: its later ops never run, and its memory is freed', () => {
    const res = seq({ processes: [{ threads: [[mmap(), w(0, 1), { op: 'exit' }, r(0)]] }], frames: 4 });
    assert.deepEqual(of(res.history.records, 'P0.T0').map((x) => x.kind), ['mmap', 'write', 'exit']);
    assert.equal(res.context.machine.mem.nr_free(), 4);
    assert.equal(res.context.machine.mms.length, 0);
  });

  it('runs out of memory as user space sees it: ENOMEM to the op, then the program goes on', () => {
    const res = seq({ processes: [{ threads: [[mmap(0, 4), w(0, 1), w(1, 2), w(2, 3), r(0)]] }], frames: 2 });
    assert.equal(res.violation, undefined);
    const recs = of(res.history.records, 'P0.T0');
    assert.deepEqual(recs.map((x) => x.result).slice(1), [0, 0, -12, 0], 'two frames: the third page cannot be had');
    const last = recs.at(-1)!;
    assert.ok(last.kind === 'read' && last.value === 1, 'the first page kept its value');
  });
});
