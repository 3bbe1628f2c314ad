import assert from 'node:assert/strict';
import { Replay } from '../../../engine/index.ts';
import { exit_mm } from '../../../engine/kernel/exit.ts';
import { dup_mm, mmget } from '../../../engine/kernel/fork.ts';
import { machine } from '../../../engine/mm/machine.ts';
import type { MmStruct } from '../../../engine/mm/mm_types.ts';
import { runProgram } from '../../../engine/program/executor.ts';
import { load, mapped, run, store } from '../harness.ts';

describe('engine/kernel/exit: a task leaving its mm (exit_mm)', () => {
  it('a thread that exits while another still uses the mm leaves its memory alone; the last one frees it', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 4);
      mmget(mm); // a second thread
      yield* exit_mm(mm);
      assert.equal(yield* load(mm, addr), 4, 'the other thread still reads it');
      assert.equal(machine().mem.nr_free(), 15);
      yield* exit_mm(mm);
      assert.equal(machine().mem.nr_free(), 16, 'the page is freed');
      assert.deepEqual(machine().mms, []);
    });
  });

  it("a child's exit gives back its share of the pages fork shared; the parent keeps them", () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 9);
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      const free = machine().mem.nr_free();
      yield* exit_mm(child);
      assert.equal(machine().mem.nr_free(), free, 'the shared page stays: the parent maps it');
      assert.equal(yield* load(mm, addr), 9);
      assert.deepEqual(machine().mms, [mm]);
    });
  });

  it("exit as an op: the process goes, the thread's later ops never run, and nothing leaks", () => {
    const r = runProgram(
      { processes: [{ threads: [[{ op: 'mmap', region: 0, pages: 2, prot: 'rw' }, { op: 'write', region: 0, page: 1, word: 0, value: 1 }, { op: 'fork', child: 1 }, { op: 'exit' }, { op: 'read', region: 0, page: 1, word: 0 }]] }, { threads: [[{ op: 'read', region: 0, page: 1, word: 0 }, { op: 'exit' }]] }], frames: 6 },
      { strategy: new Replay([]) },
    );
    assert.equal(r.violation, undefined);
    // fork returns the child's pid to the parent.
    assert.deepEqual(r.history.records.map((x) => `${x.thread} ${x.kind} ${x.result}`), ['P0.T0 mmap ' + r.history.records[0]!.result, 'P0.T0 write 0', 'P0.T0 fork 1', 'P0.T0 exit 0', 'P1.T0 read 0', 'P1.T0 exit 0']);
    assert.equal(r.context.machine.mem.nr_free(), 6);
    assert.deepEqual(r.context.machine.mms, []);
  });
});
