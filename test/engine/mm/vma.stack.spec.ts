import assert from 'node:assert/strict';
import { Replay } from '../../../engine/index.ts';
import { mm_alloc } from '../../../engine/kernel/fork.ts';
import { VM_GROWSDOWN } from '../../../engine/mm/mm_types.ts';
import { MAP_GROWSDOWN, stack_guard_gap, vm_mmap } from '../../../engine/mm/mmap.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import type { RecordOf } from '../../../engine/program/history.ts';
import type { Program } from '../../../engine/program/ops.ts';
import { describeViolation, reads, runChecked, single } from '../../helpers/run.ts';
import { RW, layout, load, run, store } from '../harness.ts';

const EFAULT = -14;
const NONE = 0;

describe('engine/mm: stack growth on fault (lock_mm_and_find_vma, expand_downwards)', () => {
  it('an access just below a MAP_GROWSDOWN mapping grows it down to the page, vm_pgoff with it; below a plain mapping it faults', () => {
    run(function* () {
      const mm = mm_alloc('P0');
      const addr = yield* vm_mmap(mm, 2, RW, MAP_GROWSDOWN);
      assert.equal(yield* store(mm, addr - 2, 7), 0);
      assert.deepEqual(layout(mm), [[addr - 2, addr + 2, addr - 2]]);
      assert.ok(mm.mmap[0]!.vm_flags & VM_GROWSDOWN);
      assert.equal(yield* load(mm, addr - 2), 7);
      assert.equal(yield* load(mm, addr - 1), 0, 'the page between is part of the stack now, and zero');
      const plain = yield* vm_mmap(mm, 1, RW);
      assert.equal(plain, addr - 2 - stack_guard_gap - 1, 'get_unmapped_area keeps the guard gap free below the stack');
      assert.equal(yield* store(mm, plain - 1, 1), EFAULT, 'no stack: SIGSEGV');
    });
  });

  it('the guard gap: no growth to within stack_guard_gap of an accessible mapping below; a PROT_NONE one does not count', () => {
    run(function* () {
      const mm = mm_alloc('P0');
      const stack = yield* vm_mmap(mm, 2, RW, MAP_GROWSDOWN);
      const below = yield* vm_mmap(mm, 1, RW);
      assert.equal(below + 1 + stack_guard_gap, stack);
      assert.equal(yield* store(mm, stack - 1, 1), EFAULT, 'expand_downwards: -ENOMEM, the guard gap');
      assert.equal(mm.mmap[1]!.vm_start, stack);
      assert.equal(yield* sys_mprotect(mm, below, 1, NONE), 0);
      assert.equal(yield* store(mm, stack - 1, 1), 0, 'vma_is_accessible(prev) is false: the stack grows up to it');
      assert.deepEqual(layout(mm).map(([s, e]) => [s, e]), [[below, below + 1], [stack - 1, stack + 2]]);
    });
  });

  it("exec's stack grows on a fault below it, and the value stays", () => {
    const r = runChecked(single({ op: 'exec', region: 0, args: 2 }, { op: 'write', region: 0, page: -1, word: 0, value: 3 }, { op: 'read', region: 0, page: -1, word: 0 }));
    assert.equal(r.violation, undefined, describeViolation(r));
    assert.deepEqual(reads(r, 'P0.T0'), [3]);
    const w = r.history.records.find((x): x is RecordOf<'write'> => x.kind === 'write')!;
    assert.deepEqual(w.grown && [w.grown.addr, w.grown.pages], [w.addr, 1], 'the record says which page the fault mapped');
  });

  it('munmap of the stack\'s low page against a fault into it: the fault grows the stack only once munmap has let go of the lock', () => {
    // T0 cuts the stack's lowest page off and later reads it; T1 writes it. The
    // fault finds no VMA at the page (lock_vma_under_rcu), then the stack above
    // it (lock_mm_and_find_vma), and needs the mmap_lock for write to grow it:
    // munmap, downgraded to read for its zap, still holds it. Before 6.5 the
    // stack grew under the read lock and munmap's zap took the new page away.
    const program: Program = {
      processes: [
        {
          threads: [
            [{ op: 'mmap', region: 0, pages: 3, prot: 'rw', growsdown: true }, { op: 'munmap', region: 0, page: 0, pages: 1 }, { op: 'read', region: 0, page: 0, word: 0 }],
            [{ op: 'write', region: 0, page: 0, word: 0, value: 5 }],
          ],
        },
      ],
    };
    let overlapped = 0;
    let runs = 0;
    for (let k = 1; k < 40; k++) {
      for (let j = k + 1; j < k + 25; j++) {
        const r = runChecked(program, new Replay([{ step: k, task: 1 }, { step: j, task: 0 }]));
        runs++;
        assert.equal(r.violation, undefined, `schedule ${k}:1,${j}:0: ${describeViolation(r)}`);
        const munmap = r.history.records.find((x) => x.kind === 'munmap')!;
        const write = r.history.records.find((x): x is RecordOf<'write'> => x.kind === 'write')!;
        if (!write.grown || munmap.result !== 0) continue;
        if (write.start < munmap.end && write.end > munmap.start) overlapped++;
        assert.ok(write.grown.step > munmap.end, `schedule ${k}:1,${j}:0: the stack grew at step ${write.grown.step}, inside munmap's steps ${munmap.start}-${munmap.end}`);
        const read = r.history.records.find((x) => x.kind === 'read')!;
        if (read.start >= write.end) assert.deepEqual(reads(r, 'P0.T0'), [5], `schedule ${k}:1,${j}:0: the write into the grown stack was lost`);
      }
    }
    assert.ok(overlapped > 0, `no schedule of ${runs} had the growing write overlap the munmap`);
  });
});
