import assert from 'node:assert/strict';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { sweepSchedules } from './explore.ts';

const mmap = (region: number, pages: number, prot: 'rw' | 'r' = 'rw'): Op => ({ op: 'mmap', region, pages, prot });
const write = (region: number, page: number, value: number, word = 0): Op => ({ op: 'write', region, page, word, value });
const read = (region: number, page: number, word = 0): Op => ({ op: 'read', region, page, word });

/** One process, threads as given; the first thread maps region 0 first. */
const threads = (...ts: Op[][]): Program => ({ processes: [{ threads: ts }] });

/**
 * Races between two threads or two processes, each program a small witness
 * of one recheck in the model (pte_same after an unlocked read, the PMD
 * recheck under the PT lock, write_protect_seq against GUP-fast, ...). Every
 * interleaving with one preemption, and with a preemption and one back, must
 * keep every property. A mutant that drops a recheck fails here.
 */

describe('engine/races/sweep: races, swept exhaustively over small schedules', function () {
  this.timeout(60_000);
  const cases: [string, Program, number, number][] = [
    ['two threads fault the same page in (do_anonymous_page vs itself)', threads([mmap(0, 2), write(0, 0, 1)], [read(0, 0), write(0, 0, 2, 1)]), 2, 4],
    ['two threads of a child write a COW-shared page (wp_page_copy vs itself)', {
      processes: [
        { threads: [[mmap(0, 1), write(0, 0, 1), { op: 'fork', child: 1 }, read(0, 0)]] },
        { threads: [[write(0, 0, 2)], [write(0, 0, 3, 1), read(0, 0)]] },
      ],
    }, 3, 1],
    ['munmap against a fault in the same page table (free_pgtables vs pte_offset_map_lock)', threads([mmap(0, 2), mmap(1, 1), write(1, 0, 1), { op: 'munmap', region: 0, page: 0, pages: 2 }], [write(0, 1, 2), read(1, 0)]), 2, 3],
    ['DONTNEED against a write', threads([mmap(0, 2), write(0, 0, 1), { op: 'madvise', region: 0, page: 0, pages: 2, advice: 'DONTNEED' }, read(0, 0)], [write(0, 0, 2), read(0, 0)]), 2, 3],
    ['mremap moving pages against a reader', threads([mmap(0, 2), write(0, 0, 1), write(0, 1, 2), { op: 'mremap', region: 0, pages: 3, maymove: true }], [read(0, 0), read(0, 1)]), 2, 2],
    ['fork against a write in another thread', {
      processes: [{ threads: [[mmap(0, 1), write(0, 0, 1), { op: 'fork', child: 1 }], [write(0, 0, 2), read(0, 0)]] }, { threads: [[read(0, 0)]] }],
    }, 3, 1],
    ['fork against GUP-fast pinning (write_protect_seq)', {
      processes: [
        { threads: [[mmap(0, 1), write(0, 0, 1), { op: 'fork', child: 1 }, write(0, 0, 3)], [{ op: 'pin', region: 0, page: 0, pin: 0, write: false, longterm: false, fast: true }, { op: 'pinRead', pin: 0, word: 0 }]] },
        { threads: [[read(0, 0), write(0, 0, 2)]] },
      ],
    }, 3, 1],
    ['GUP-fast against DONTNEED and a reuse of the freed frame (the PTE recheck)', threads(
      [mmap(0, 2), write(0, 0, 1), { op: 'pin', region: 0, page: 0, pin: 0, write: false, longterm: false, fast: true }, { op: 'pinRead', pin: 0, word: 0 }],
      [{ op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' }, write(0, 1, 2)],
    ), 2, 0],
    ['a speculative fault against munmap of its VMA', { ...threads([mmap(0, 2), write(0, 0, 1), { op: 'munmap', region: 0, page: 0, pages: 2 }], [write(0, 1, 2), read(0, 0)]), faultMode: 'spf' }, 2, 2],
    ['a speculative fault against mprotect read-only', { ...threads([mmap(0, 2), write(0, 0, 1), { op: 'mprotect', region: 0, page: 0, pages: 2, prot: 'r' }], [write(0, 1, 2), write(0, 0, 3)]), faultMode: 'spf' }, 2, 2],
    ['a speculative COW fault against mremap moving the VMA', {
      processes: [
        { threads: [[mmap(0, 2), write(0, 0, 1), { op: 'fork', child: 1 }, { op: 'mremap', region: 0, pages: 3, maymove: true }], [write(0, 0, 2), read(0, 0)]] },
        { threads: [[read(0, 0)]] },
      ],
      faultMode: 'spf',
    }, 2, 1],
    ['mprotect against a write', threads([mmap(0, 2), write(0, 0, 1), { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'r' }, { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'rw' }], [write(0, 0, 2), write(0, 1, 3)]), 2, 2],
    ['exit of one thread against a fault of another', threads([mmap(0, 1), write(0, 0, 1), { op: 'exit' }], [write(0, 0, 2), read(0, 0)]), 2, 3],
  ];
  for (const [what, program, tasks, window] of cases) {
    it(what, () => {
      const s = sweepSchedules(program, { tasks, window });
      assert.equal(s.failure, undefined);
      assert.ok(s.runs > 50, `only ${s.runs} schedules`);
    });
  }
});
