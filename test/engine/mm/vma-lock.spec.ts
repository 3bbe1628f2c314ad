import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RandomWalk, Replay } from '../../../engine/index.ts';
import { vma_lock_events } from '../../../engine/mm/vma_lock.ts';
import type { FaultMode, Op, Program } from '../../../engine/program/ops.ts';
import { programArb } from '../../../generators/index.ts';
import { describeViolation, pct, reads, runChecked } from '../../helpers/run.ts';

/** Counters of the run just done: the executor's Machine is still the one vma_lock_events() sees through the context. */
function events(r: ReturnType<typeof runChecked>) {
  return r.context.kernel.enter(() => ({ ...vma_lock_events() }));
}

const touch = (faultMode: FaultMode | undefined, extra: Op[] = []): Program => ({
  processes: [
    {
      threads: [
        [
          { op: 'mmap', region: 0, pages: 3, prot: 'rw' },
          // The first fault attaches the anon_vma: under mmap_lock.
          { op: 'write', region: 0, page: 0, word: 0, value: 1 },
          // These find the anon_vma and need no mmap_lock.
          { op: 'write', region: 0, page: 1, word: 0, value: 2 },
          { op: 'read', region: 0, page: 2, word: 0 },
          ...extra,
        ],
      ],
    },
  ],
  ...(faultMode ? { faultMode } : {}),
});

describe('engine/mm: faults without mmap_lock', () => {
  it('a fault in a VMA with an anon_vma runs under the per-VMA lock, not mmap_lock', () => {
    const r = runChecked(touch(undefined), new Replay([]), true);
    assert.equal(r.violation, undefined, describeViolation(r));
    const e = events(r);
    assert.equal(e.VMA_LOCK_SUCCESS, 2);
    // The anon_vma-less first fault aborted to mmap_lock.
    assert.ok(e.VMA_LOCK_ABORT >= 1);
    const text = r.trace!.toText();
    // mmap_lock for read: the first fault and exit_mmap, nothing else.
    assert.equal(text.split('\n').filter((l) => l.includes('down_read(mmap_lock')).length, 2);
    assert.ok(text.includes('+vma_lock('));
    assert.deepEqual(reads(r, 'P0.T0'), [0]);
  });

  it('falls back to mmap_lock when the VMA is write-locked', () => {
    // T1 faults while T0's mprotect holds the VMA write-locked: the schedule
    // runs T0 into mprotect_fixup past vma_start_write, then T1's fault.
    const p: Program = {
      processes: [
        {
          threads: [
            [
              { op: 'mmap', region: 0, pages: 2, prot: 'rw' },
              { op: 'write', region: 0, page: 0, word: 0, value: 1 },
              { op: 'mprotect', region: 0, page: 0, pages: 2, prot: 'r' },
            ],
            // Until T0 has mapped r0 a read fails without entering the kernel; the first that faults is the one that counts.
            [{ op: 'mmap', region: 1, pages: 1, prot: 'rw' }, ...Array.from({ length: 4 }, (): Op => ({ op: 'read', region: 0, page: 1, word: 0 }))],
          ],
        },
      ],
    };
    let fellBack = false;
    for (let seed = 0; seed < 400 && !fellBack; seed++) {
      const r = runChecked(p, new RandomWalk(seed), true);
      assert.equal(r.violation, undefined, describeViolation(r));
      const lines = r.trace!.toText().split('\n');
      // T1 read vm_lock_seq while T0 had the VMA write-locked (between its
      // down_write(vma_lock) and the mmap_write_unlock), and then took mmap_lock.
      const locked = lines.findIndex((l) => l.includes('P0.T0 down_write(vma_lock('));
      const unlocked = lines.findIndex((l, i) => i > locked && l.includes('P0.T0 up_write(mmap_lock('));
      const tried = lines.findIndex((l, i) => i > locked && i < unlocked && l.includes('P0.T1 vma_start_read'));
      if (locked >= 0 && tried >= 0 && lines.some((l, i) => i > tried && l.includes('P0.T1 down_read(mmap_lock('))) fellBack = true;
    }
    assert.ok(fellBack, 'no schedule had the fault meet the write-locked VMA');
  });

  it('speculative faults commit without any lock but the PT lock', () => {
    const r = runChecked(touch('spf'), new Replay([]), true);
    assert.equal(r.violation, undefined, describeViolation(r));
    const e = events(r);
    assert.equal(e.SPF_SUCCESS, 2);
    assert.equal(e.VMA_LOCK_SUCCESS, 0);
    assert.ok(r.trace!.toText().includes('read_seqcount_retry(vm_sequence('));
  });

  for (const faultMode of ['vma-lock', 'spf'] as const) {
    it(`${faultMode}: faults against munmap, mremap, mprotect and fork: no violation under random walk and PCT`, () => {
      fc.assert(
        fc.property(programArb({ faultMode, vmaRace: true, maxOpsPerThread: 8 }), fc.nat(1000), (p, seed) => {
          assert.equal(p.faultMode === 'spf', faultMode === 'spf');
          for (const s of [new RandomWalk(seed), pct(seed, p)]) {
            const r = runChecked(p, s);
            assert.equal(r.violation, undefined, describeViolation(r));
          }
        }),
        { numRuns: 150, seed: 7 },
      );
    });
  }
});
