import assert from 'node:assert/strict';
import { Replay } from '../../../engine/index.ts';
import { kobject_freed } from '../../../engine/mm/kasan.ts';
import { valueOf } from '../../../engine/program/history.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { describeViolation, reads, runChecked } from '../../helpers/run.ts';
import { rec } from '../../helpers/scenario.ts';
import * as engine from '../../../engine/index.ts';
import { done, steer } from '../races/steer.ts';

const mmap: Op = { op: 'mmap', region: 0, pages: 1, prot: 'rw' };
const w = (value: number, word = 0): Op => ({ op: 'write', region: 0, page: 0, word, value });
const r = (word = 0): Op => ({ op: 'read', region: 0, page: 0, word });
const free: Op = { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'FREE' };
const reclaim: Op = { op: 'reclaim', victim: 0 };
const get = (fast: boolean): Op => ({ op: 'get', ref: 0, region: 0, page: 0, fast });
const getRead: Op = { op: 'getRead', ref: 0, word: 0 };

/** Sequential: each thread runs to its end before the next (the replay's lowest-runnable rule). */
function run(p: Program) {
  const res = runChecked(p, new Replay([]), true);
  assert.equal(res.violation, undefined, describeViolation(res));
  return res;
}

describe('engine/mm: MADV_FREE, FOLL_GET references, swapoff tear-down', () => {
  it('MADV_FREE: reclaim discards a clean lazyfree page (it reads back zero); a write after it keeps the page', () => {
    const gone = run({ processes: [{ threads: [[mmap, w(5), free, reclaim, r()]] }] });
    assert.equal(rec(gone, 'P0.T0', 3).result, 1, 'reclaim freed the folio');
    assert.deepEqual(reads(gone, 'P0.T0'), [0]);
    const kept = run({ processes: [{ threads: [[mmap, w(5), free, w(6, 1), reclaim, r(), r(1)]] }] });
    assert.equal(rec(kept, 'P0.T0', 4).result, 0, 'the re-dirtied folio stays');
    assert.deepEqual(reads(kept, 'P0.T0'), [5, 6]);
  });

  it('MADV_FREE of a whole THP: reclaim splits the lazyfree THP and discards its head page (no PMD reaches try_to_unmap); the tails keep their data until reclaimed', () => {
    const thp: Op = { op: 'mmap', region: 0, pages: 16, prot: 'rw' };
    const huge: Op = { op: 'madvise', region: 0, page: 0, pages: 16, advice: 'HUGEPAGE' };
    const at = (page: number, value?: number): Op => (value === undefined ? { op: 'read', region: 0, page, word: 0 } : { op: 'write', region: 0, page, word: 0, value });
    const freeAll: Op = { op: 'madvise', region: 0, page: 0, pages: 16, advice: 'FREE' };
    const res = run({ processes: [{ threads: [[thp, huge, at(0, 4), at(5, 5), freeAll, reclaim, at(0), at(5)]] }], frames: 48 });
    assert.equal(rec(res, 'P0.T0', 4).result, 0, 'MADV_FREE of the THP');
    assert.equal(rec(res, 'P0.T0', 5).result, 1, 'reclaim freed the head page');
    assert.deepEqual(reads(res, 'P0.T0'), [0, 5]);
  });

  it('a lazyfree page reclaim found re-dirtied (set swapbacked again, left mapped) and a racing munmap then unmapped is kept, not written to a slot it does not have (pageout: no mapping, PAGE_KEEP)', () => {
    const p: Program = {
      processes: [{ threads: [[{ op: 'swapon', dev: 0, slots: 4 }, mmap, w(5), get(false), free, w(6, 1)], [{ op: 'munmap', region: 0, page: 0, pages: 1 }]] }],
      kthreads: [[reclaim]],
    };
    // kswapd parks once try_to_unmap_one() gave up on the re-dirtied folio; the munmap zaps it then.
    // A FOLL_GET reference makes the folio look freeable to pageout() once the zap dropped the mapping's.
    const { strategy, log } = steer(engine, [
      { task: 'P0.T1', at: 'start', until: (ts) => ts.find((t) => t.name === 'K0')!.label.startsWith('up_read(anon_vma_lock') },
      { task: 'K0', at: 'start', until: done('P0.T0') },
      { task: 'K0', at: 'up_read(anon_vma_lock', until: (ts) => ts.find((t) => t.name === 'P0.T1')!.label.startsWith('down_write(anon_vma_lock') },
    ]);
    const res = runChecked(p, strategy, true);
    assert.deepEqual([log.reached, log.forced], [[true, true, true], false], 'kswapd was parked after try_to_unmap, the munmap zapped then');
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(rec(res, 'P0.T1', 0).result, 0);
    assert.equal(rec(res, 'K0', 0).result, 0, 'nothing reclaimed: the folio was kept');
    assert.ok(!res.trace!.toText().includes('swap_writepage'), 'no write-out');
  });

  for (const fast of [true, false]) {
    it(`a FOLL_GET reference (${fast ? 'GUP-fast' : 'slow GUP'}) keeps a lazyfree page from being discarded, and goes stale after fork and a COW`, () => {
      const held = run({ processes: [{ threads: [[mmap, w(5), get(fast), free, reclaim, r(), getRead, { op: 'put', ref: 0 }, reclaim, r()]] }] });
      assert.equal(rec(held, 'P0.T0', 4).result, 0, 'the referenced folio stays');
      assert.equal(rec(held, 'P0.T0', 8).result, 1, 'once put, it is discarded');
      assert.deepEqual(reads(held, 'P0.T0'), [5, 0]);
      assert.equal(valueOf(rec(held, 'P0.T0', 6)), 5);
      // The parent's own write after fork copies the page (the reference holds it): the reference keeps the old one.
      const forked = run({ processes: [{ threads: [[mmap, w(1), get(fast), { op: 'fork', child: 1 }, w(2), getRead, r()]] }, { threads: [[r()]] }] });
      assert.equal(valueOf(rec(forked, 'P0.T0', 5)), 1, 'stale: the pipe still has the page the child maps');
      assert.deepEqual(reads(forked, 'P0.T0'), [2]);
      assert.deepEqual(reads(forked, 'P1.T0'), [1]);
    });
  }

  it('migration leaves a page with a FOLL_GET reference where it is (-EAGAIN); without one it moves', () => {
    const migrate: Op = { op: 'migrate', victim: 0 };
    const held = run({ processes: [{ threads: [[mmap, w(5), get(true), migrate, { op: 'put', ref: 0 }, migrate, r()]] }] });
    assert.equal(rec(held, 'P0.T0', 3).result, 0);
    assert.equal(rec(held, 'P0.T0', 5).result, 1);
    assert.deepEqual(reads(held, 'P0.T0'), [5]);
  });

  it("swapoff frees the device's swap_map, cluster_info, swap cache address space and swap file, in that order", () => {
    const res = run({ processes: [{ threads: [[{ op: 'swapon', dev: 0, slots: 2 }, mmap, w(5), reclaim, { op: 'swapoff', dev: 0 }, r()]] }] });
    assert.equal(rec(res, 'P0.T0', 4).result, 0);
    assert.deepEqual(reads(res, 'P0.T0'), [5]);
    const si = res.context.machine.swap_info[0]!;
    assert.equal(si.flags, 0);
    assert.deepEqual([si.swap_map, si.cluster_info, si.swapper_space, si.swap_file], [undefined, undefined, undefined, undefined]);
    // swap_map and cluster_info go after free_percpu; the address space after exit_swap_address_space's grace period; then the file.
    const steps = res.trace!.toText().split('\n').filter((l) => l.includes(' P0.T0 ')).map((l) => l.split(' ').slice(2).join(' '));
    const from = steps.lastIndexOf('swapoff: free_percpu(p->percpu_cluster)');
    assert.deepEqual(steps.slice(from, from + 5), ['swapoff: free_percpu(p->percpu_cluster)', 'synchronize_rcu', 'swapoff: inode->i_flags &= ~S_SWAPFILE', 'spin_lock(swap_lock) [+swap_lock]', 'spin_unlock(swap_lock) [-swap_lock]']);
    assert.equal(kobject_freed(si), false, 'swap_info stays for the life of the kernel');
  });
});
