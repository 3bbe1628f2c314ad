import assert from 'node:assert/strict';
import type { KGen } from '../../../engine/index.ts';
import { do_execve } from '../../../engine/fs/exec.ts';
import { execArgv } from '../../../engine/program/abi.ts';
import { mmput } from '../../../engine/kernel/fork.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { STACK_TOP, STACK_TOP_MAX, VM_STACK_FLAGS, VM_STACK_INCOMPLETE_SETUP, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { folioAt, layout, load, mapped, run, store } from '../harness.ts';

function* exec(old: MmStruct, nargs: number): KGen<MmStruct> {
  const r = yield* do_execve(old, 'P0', execArgv(nargs));
  assert.equal(typeof r, 'object', `exec failed: ${String(r)}`);
  return r as MmStruct;
}

describe('engine/fs/exec: exec (fs/exec.ts)', () => {
  it('execArgv numbers the argument pages', () => {
    assert.deepEqual(execArgv(3), [0xa000, 0xa001, 0xa002]);
  });

  for (const nargs of [1, 3, 20, 34]) {
    it(`exec with ${nargs} argument pages: the stack ends at STACK_TOP, the args are in place, the old mm is gone`, () => {
      const r = run(function* () {
        const { mm: old, addr } = yield* mapped(2);
        yield* store(old, addr, 1);
        const mm = yield* exec(old, nargs);
        assert.equal(machine().mms.length, 1);
        assert.equal(machine().mms[0], mm);
        assert.deepEqual(layout(mm), [[STACK_TOP - nargs, STACK_TOP, STACK_TOP_MAX - nargs]]);
        const vma = mm.mmap[0]!;
        assert.equal(vma.vm_flags, VM_STACK_FLAGS, 'no longer flagged incomplete');
        assert.equal(vma.vm_flags & VM_STACK_INCOMPLETE_SETUP, 0);
        assert.deepEqual([mm.start_stack, mm.arg_start], [STACK_TOP - nargs, STACK_TOP - nargs]);
        for (let i = 0; i < nargs; i++) {
          // Argument i was written at STACK_TOP_MAX - 1 - i, and moved down by the shift.
          const a = STACK_TOP - 1 - i;
          assert.equal(yield* load(mm, a), execArgv(nargs)[i]);
          assert.equal(folioAt(mm, a).index, STACK_TOP_MAX - 1 - i, 'the index rmap computes from vm_pgoff');
        }
        // The page tables of the temporary stack are gone.
        assert.equal(mm.pgd[pmd_index(STACK_TOP_MAX - 1)], undefined);
        if (nargs <= 16) assert.equal(mm.pgd.filter(Boolean).length, 1);
        assert.equal(machine().mem.nr_free(), 40 - nargs);
        yield* mmput(mm);
        assert.equal(machine().mem.nr_free(), 40);
      }, { frames: 40 });
      assert.deepEqual(r.warnings, [], 'setup_arg_pages did not fail');
    });
  }

  it('exec out of memory fails before the point of no return: the old mm stays, the new one is freed', () => {
    run(function* () {
      const { mm: old, addr } = yield* mapped(1);
      yield* store(old, addr, 7);
      assert.equal(yield* do_execve(old, 'P0', execArgv(3)), -12);
      assert.deepEqual(machine().mms, [old]);
      assert.equal(yield* load(old, addr), 7);
      assert.equal(machine().mem.nr_free(), 2, 'the argument pages it got are freed');
    }, { frames: 3 });
  });

});
