import assert from 'node:assert/strict';
import { Replay } from '../../engine/index.ts';
import { execArgv } from '../../engine/program/abi.ts';
import { valueOf } from '../../engine/program/history.ts';
import type { Op, Program } from '../../engine/program/ops.ts';
import { history, rec, type OpOf } from '../helpers/records.ts';
import { describeViolation, runChecked } from '../helpers/run.ts';
import { EFAULT, ENOMEM, verdict, A, mmap, mprotect, read, write, at } from './data-integrity.setup.ts';

describe('properties: data-integrity checks access rights', () => {
  describe('on recorded histories', () => {
    it('a read that succeeds after mprotect(PROT_NONE) returned is a violation; one racing it is not', () => {
      const base = (s: number, e: number) =>
        history(
          rec('P0.T0', mmap('rw'), 0, 0, 2, A, at(0, 2)),
          rec('P0.T0', write(5), 0, 2, 4, 0, { ...at(), value: 5 }),
          rec('P0.T1', mprotect('none'), 0, 10, 20, 0, at(0, 2)),
          rec('P0.T0', read(), 0, s, e, 0, { ...at(), value: 5 }),
        );
      assert.match(verdict(base(21, 22)) ?? '', /read r0\[0\]\.0 \(address 200, steps 21-22\) succeeded, but the page was not mapped readable while it ran: protection \{none\}/);
      assert.equal(verdict(base(15, 16)), undefined, 'inside the mprotect: either way');
      assert.equal(verdict(base(5, 12)), undefined, 'overlapping its start');
    });

    it('a write that succeeds on a read-only mapping, or a R/W pin of one, is a violation', () => {
      const w = history(rec('P0.T0', mmap('r'), 0, 0, 2, A, at(0, 2)), rec('P0.T0', write(5, 1), 0, 2, 4, 0, { ...at(1), value: 5 }));
      assert.match(verdict(w) ?? '', /write r0\[1\]\.0=5 .* succeeded, but the page was not mapped writable while it ran: protection \{r\}/);
      const pin: OpOf<'pin'> = { op: 'pin', pin: 0, region: 0, page: 0, write: true, fast: true, longterm: false };
      assert.match(verdict(history(rec('P0.T0', mmap('r'), 0, 0, 2, A, at(0, 2)), rec('P0.T0', pin, 0, 2, 4, 0, { ...at(), pin: 0, pinId: 0 }))) ?? '', /pin#0 .* not mapped writable/);
      assert.equal(verdict(history(rec('P0.T0', mmap('r'), 0, 0, 2, A, at(0, 2)), rec('P0.T0', { ...pin, write: false }, 0, 2, 4, 0, { ...at(), pin: 0, pinId: 0 }))), undefined);
    });

    it('an EFAULT where the page was mapped with the right for the whole access is a violation', () => {
      const h = (prot: 'rw' | 'r', op: Op) => history(rec('P0.T0', mmap(prot), 0, 0, 2, A, at(0, 2)), rec('P0.T0', op, 0, 2, 4, EFAULT, at()));
      assert.match(verdict(h('r', read())) ?? '', /read r0\[0\]\.0 .* failed with EFAULT, but the page was mapped readable all the while: protection \{r\}/);
      assert.equal(verdict(h('r', write(1))), undefined, 'no write right');
      assert.match(verdict(h('rw', write(1))) ?? '', /failed with EFAULT, but the page was mapped writable/);
      // Racing an mprotect, or after one that failed part way (a hole): either way.
      const racing = history(rec('P0.T0', mmap('rw'), 0, 0, 2, A, at(0, 2)), rec('P0.T1', mprotect('none'), 0, 3, 9, 0, at(0, 2)), rec('P0.T0', read(), 0, 4, 5, EFAULT, at()));
      assert.equal(verdict(racing), undefined);
      const partial = history(rec('P0.T0', mmap('rw'), 0, 0, 2, A, at(0, 2)), rec('P0.T0', mprotect('none', 0, 3), 0, 2, 3, ENOMEM, at(0, 3)), rec('P0.T0', read(), 0, 4, 5, EFAULT, at()));
      assert.equal(verdict(partial), undefined);
      // A page never mapped, or unmapped: nothing to say.
      assert.equal(verdict(history(rec('P0.T0', read(3), 0, 0, 1, EFAULT, at(3)))), undefined);
    });

    it('fork: the child has the protection the parent had during the fork; a DONTFORK page is not there', () => {
      const fork = (after: boolean) =>
        history(
          rec('P0.T0', mmap('rw'), 0, 0, 2, A, at(0, 2)),
          rec('P0.T0', mprotect(after ? 'rw' : 'none'), 0, 2, 4, 0, at(0, 2)),
          rec('P0.T0', { op: 'fork', child: 1 }, 0, 4, 8, 1, { newAs: 1 }),
          rec('P0.T0', mprotect('none'), 0, 8, 10, 0, at(0, 2)),
          rec('P1.T0', read(), 1, 10, 11, 0, { ...at(), value: 0 }),
        );
      assert.equal(verdict(fork(true)), undefined, 'the parent made it PROT_NONE after the fork');
      assert.match(verdict(fork(false)) ?? '', /P1\.T0 read .* not mapped readable/);
      const dontfork = history(
        rec('P0.T0', mmap('rw'), 0, 0, 2, A, at(0, 2)),
        rec('P0.T0', { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTFORK' }, 0, 2, 3, 0, at()),
        rec('P0.T0', { op: 'fork', child: 1 }, 0, 4, 8, 1, { newAs: 1 }),
        rec('P1.T0', read(), 1, 10, 11, EFAULT, at()),
        rec('P1.T0', read(1), 1, 11, 12, EFAULT, at(1)),
      );
      assert.match(verdict(dontfork) ?? '', /P1\.T0 read r0\[1\]\.0 .* failed with EFAULT/, 'page 1 was copied, page 0 was not');
    });

    it('a madvise that failed part-way may have advised the VMAs before the one that failed', () => {
      // DONTFORK over an anon VMA and into a hugetlb one it cannot split off a
      // huge-page boundary: the anon pages are DONTFORK, the call says -EINVAL
      // (the clean model did this at run 795,485 of a `--seed 11` campaign).
      const partly = (result: number) =>
        history(
          rec('P0.T0', mmap('rw', 3), 0, 0, 2, A, at(0, 3)),
          rec('P0.T0', { op: 'hugetlbMmap', region: 1, file: 0, hpage: 0, hpages: 1, prot: 'rw' }, 0, 2, 4, A + 3, { addr: A + 3, pages: 16 }),
          rec('P0.T0', { op: 'madvise', region: 0, page: 1, pages: 3, advice: 'DONTFORK' }, 0, 4, 6, result, at(1, 3)),
          rec('P0.T0', { op: 'fork', child: 1 }, 0, 6, 8, 1, { newAs: 1 }),
          rec('P1.T0', write(3, 2), 1, 8, 9, EFAULT, { ...at(2), value: 3 }),
          rec('P1.T0', write(4, 0), 1, 9, 10, EFAULT, { ...at(0), value: 4 }),
        );
      const EINVAL = -22;
      assert.match(verdict(partly(EINVAL)) ?? '', /P1\.T0 write r0\[0\]\.0=4 .* failed with EFAULT/, 'page 2 may be DONTFORK; page 0 was outside the madvise');
      const failedEarly = history(
        rec('P0.T0', mmap('rw', 3), 0, 0, 2, A, at(0, 3)),
        rec('P0.T0', { op: 'madvise', region: 0, page: 1, pages: 3, advice: 'DONTFORK' }, 0, 4, 6, EINVAL, at(1, 3)),
        rec('P0.T0', { op: 'fork', child: 1 }, 0, 6, 8, 1, { newAs: 1 }),
        rec('P1.T0', read(2), 1, 8, 9, 0, { ...at(2), value: 0 }),
      );
      assert.equal(verdict(failedEarly), undefined, 'and may not have: the child may still have the page');
    });

    it('a DONTNEED that says -ENOMEM may not have zapped a page a munmap in flight had detached', () => {
      // munmap has detached the VMA and not yet zapped it: DONTNEED finds a
      // hole (-ENOMEM), and a read still sees the page (found by a campaign:
      // one switch, at step 33, in the program of the replay below).
      const dontneed = (result: number) =>
        history(
          rec('P0.T0', mmap('rw', 3), 0, 0, 2, A, at(0, 3)),
          rec('P0.T0', write(2, 1), 0, 2, 22, 0, { ...at(1), value: 2 }),
          rec('P0.T1', { op: 'madvise', region: 0, page: 0, pages: 2, advice: 'DONTNEED' }, 0, 33, 35, result, at(0, 2)),
          rec('P0.T1', read(1), 0, 35, 36, 0, { ...at(1), value: 2 }),
          rec('P0.T0', { op: 'munmap', region: 0, page: 0, pages: 2 }, 0, 22, 42, 0, at(0, 2)),
        );
      assert.equal(verdict(dontneed(ENOMEM)), undefined);
      assert.match(verdict(dontneed(0)) ?? '', /P0\.T1 read r0\[1\]\.0 .* returned 2; allowed: \{0\}/, 'a DONTNEED that succeeded zapped it');
      const program: Program = {
        processes: [
          {
            threads: [
              [{ op: 'mmap', region: 0, pages: 3, prot: 'rw' }, write(2, 1), { op: 'munmap', region: 0, page: 0, pages: 2 }],
              [{ op: 'madvise', region: 0, page: 0, pages: 2, advice: 'DONTNEED' }, read(1)],
            ],
          },
        ],
      };
      const r = runChecked(program, new Replay([{ step: 33, task: 1 }]));
      assert.equal(r.violation, undefined, describeViolation(r));
      assert.deepEqual(r.history.records.filter((x) => x.thread === 'P0.T1').map((x) => [x.result, valueOf(x)]), [[ENOMEM, undefined], [0, 2]], 'the race happened');
    });

    it('mremap moves the protection; exec maps a read-write stack', () => {
      const moved = (prot: 'rw' | 'none') =>
        history(
          rec('P0.T0', mmap('rw'), 0, 0, 2, A, at(0, 2)),
          rec('P0.T0', mprotect(prot), 0, 2, 3, 0, at(0, 2)),
          rec('P0.T0', { op: 'mremap', region: 0, pages: 3, maymove: true }, 0, 3, 6, 100, { ...at(0, 2), newAddr: 100 }),
          rec('P0.T0', read(0), 0, 6, 7, 0, { addr: 100, pages: 1, value: 0 }),
          rec('P0.T0', read(2), 0, 7, 8, 0, { addr: 102, pages: 1, value: 0 }),
        );
      assert.equal(verdict(moved('rw')), undefined);
      assert.match(verdict(moved('none')) ?? '', /address 100, .* protection \{none\}/);
      const exec = history(
        rec('P0.T0', { op: 'exec', region: 1, args: 1 }, 0, 0, 5, 0, { addr: 223, pages: 1, newAs: 1, argv: execArgv(1) }),
        rec('P0.T0', write(7), 1, 5, 6, 0, { addr: 223, pages: 1, value: 7 }),
        rec('P0.T0', read(), 1, 6, 7, EFAULT, { addr: 224, pages: 1 }),
      );
      assert.equal(verdict(exec), undefined);
    });

    it('hugetlbfs: its own protection; its failures (SIGBUS beyond the file) are not judged', () => {
      const huge = (prot: 'rw' | 'r', op: Op, result: number) =>
        history(
          rec('P0.T0', { op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 1, prot }, 0, 0, 2, 192, { addr: 192, pages: 16 }),
          rec('P0.T0', op, 0, 2, 4, result, { addr: 195, pages: 1, ...(result >= 0 ? { value: 1 } : {}) }),
        );
      assert.match(verdict(huge('r', write(1), 0)) ?? '', /not mapped writable/);
      assert.equal(verdict(huge('rw', write(1), 0)), undefined);
      assert.equal(verdict(huge('rw', read(), EFAULT)), undefined);
    });
  });
});
