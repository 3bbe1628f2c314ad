// Dirty tracking of shmem folios as Linux 6.16 does it: a folio added to the
// page cache is clean; a store sets only its PTE's dirty bit, which moves to
// the folio when the PTE goes (try_to_unmap_one, zap); reclaim writes a dirty
// folio out to swap (pageout: folio_clear_dirty_for_io, shmem_writeout) and
// drops a clean one (__remove_mapping), whose next fault finds a hole.
import assert from 'node:assert/strict';
import { RandomWalk, hooksFor, properties, runProgram, type Op } from '../../../index.ts';
import { shmem_swap_entries } from '../../../engine/mm/shmem.ts';

function run(ops: Op[]) {
  let swapped = 0;
  const hooks = hooksFor(properties);
  const r = runProgram(
    { processes: [{ threads: [ops] }] },
    { strategy: new RandomWalk(1), hooks: { ...hooks, afterOp: (ctx, rec) => ((swapped = Math.max(swapped, shmem_swap_entries(ctx.machine).length)), hooks.afterOp?.(ctx, rec)) } },
  );
  assert.equal(r.violation, undefined, r.violation?.message);
  const reads = r.history.records.filter((x) => x.kind === 'read').map((x) => (x.result < 0 ? x.result : x.value));
  const reclaims = r.history.records.filter((x) => x.kind === 'reclaim').map((x) => x.result);
  return { swapped, reads, reclaims };
}

describe('engine/mm/shmem: dirty tracking (noop_dirty_folio, no writeback)', () => {
  it('a clean folio (only read) is dropped by reclaim, not written out: no swap entry, and it reads zero again', () => {
    const r = run([
      { op: 'swapon', dev: 0, slots: 4 },
      { op: 'mmap', region: 0, pages: 1, prot: 'rw', shared: true },
      { op: 'read', region: 0, page: 0, word: 0 },
      { op: 'reclaim', victim: 0 },
      { op: 'read', region: 0, page: 0, word: 0 },
    ]);
    assert.deepEqual(r.reclaims, [1], 'reclaim freed the folio');
    assert.equal(r.swapped, 0, 'without writing it to swap');
    assert.deepEqual(r.reads, [0, 0]);
  });

  it('a store through a writable clean PTE (mapped by a read fault) dirties the PTE; unmap moves it to the folio, which goes to swap', () => {
    const r = run([
      { op: 'swapon', dev: 0, slots: 4 },
      { op: 'mmap', region: 0, pages: 1, prot: 'rw', shared: true },
      { op: 'read', region: 0, page: 0, word: 0 },
      { op: 'write', region: 0, page: 0, word: 1, value: 3 },
      { op: 'reclaim', victim: 0 },
      { op: 'read', region: 0, page: 0, word: 1 },
    ]);
    assert.deepEqual(r.reclaims, [1]);
    assert.equal(r.swapped, 1, 'the dirty folio was written out: its swap entry is in the file');
    assert.deepEqual(r.reads, [0, 3]);
  });

  it('MADV_DONTNEED zaps a dirty PTE: the folio keeps the dirt and the data, and goes to swap', () => {
    const r = run([
      { op: 'swapon', dev: 0, slots: 4 },
      { op: 'mmap', region: 0, pages: 1, prot: 'rw', shared: true },
      { op: 'read', region: 0, page: 0, word: 0 },
      { op: 'write', region: 0, page: 0, word: 0, value: 4 },
      { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' },
      { op: 'reclaim', victim: 0 },
      { op: 'read', region: 0, page: 0, word: 0 },
    ]);
    assert.equal(r.swapped, 1);
    assert.deepEqual(r.reads, [0, 4]);
  });
});
