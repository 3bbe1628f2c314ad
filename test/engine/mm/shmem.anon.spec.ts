// Shared anonymous mappings (mmap MAP_SHARED | MAP_ANONYMOUS: do_mmap ->
// __mmap_region -> shmem_zero_setup): a shmem file per mapping, in the VMA's
// vm_file and i_mmap, shared with a fork's child, reclaimed to swap entries in
// that file and faulted back.
import assert from 'node:assert/strict';
import { RandomWalk, hooksFor, properties, runProgram, type Op } from '../../../index.ts';
import { xa_is_value } from '../../../engine/fs/fs.ts';
import { shmem_files, shmem_swap_entries } from '../../../engine/mm/shmem.ts';

function values(r: ReturnType<typeof runProgram>): (number | undefined)[] {
  return r.history.records.filter((x) => x.kind === 'read').map((x) => (x.result < 0 ? x.result : x.value));
}

describe('engine/mm/shmem: shared anonymous mappings (shmem_zero_setup)', () => {
  it('a fork child and its parent see each other\'s writes; a private anon mapping beside it stays COW', () => {
    const parent: Op[] = [
      { op: 'mmap', region: 0, pages: 2, prot: 'rw', shared: true },
      { op: 'mmap', region: 1, pages: 1, prot: 'rw' },
      { op: 'write', region: 0, page: 0, word: 0, value: 5 },
      { op: 'write', region: 1, page: 0, word: 0, value: 6 },
      { op: 'fork', child: 1 },
    ];
    const child: Op[] = [
      { op: 'read', region: 0, page: 0, word: 0 }, // 5, the parent's
      { op: 'write', region: 0, page: 1, word: 1, value: 8 },
      { op: 'write', region: 1, page: 0, word: 0, value: 9 }, // its own COW copy
      { op: 'fork', child: 2 },
    ];
    const grandchild: Op[] = [
      { op: 'read', region: 0, page: 1, word: 1 }, // 8
      { op: 'read', region: 1, page: 0, word: 0 }, // 9
    ];
    const p = { processes: [{ threads: [parent] }, { threads: [child] }, { threads: [grandchild] }] };
    let vmas = 0;
    const hooks = hooksFor(properties);
    const r = runProgram(p, {
      strategy: new RandomWalk(3),
      hooks: { ...hooks, afterOp: (ctx, rec) => ((vmas = Math.max(vmas, shmem_files(ctx.machine)[0]?.f_mapping.i_mmap.length ?? 0)), hooks.afterOp?.(ctx, rec)) },
    });
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.deepEqual(values(r), [5, 8, 9]);
    const files = shmem_files(r.context.machine);
    assert.equal(files.length, 1, 'one shmem file, for the one shared mapping');
    assert.equal(files[0]!.f_inode.i_size, 2);
    assert.ok(vmas >= 2, 'a parent and its child had a VMA on it at once, both in its i_mmap');
  });

  it('reclaim writes a shared anonymous page out to a swap entry in its file; the next fault reads it back', () => {
    let swapped = 0;
    const ops: Op[] = [
      { op: 'swapon', dev: 0, slots: 4 },
      { op: 'mmap', region: 0, pages: 1, prot: 'rw', shared: true },
      { op: 'write', region: 0, page: 0, word: 1, value: 4 },
      { op: 'reclaim', victim: 0 },
      { op: 'read', region: 0, page: 0, word: 1 },
    ];
    const hooks = hooksFor(properties);
    const r = runProgram(
      { processes: [{ threads: [ops] }] },
      { strategy: new RandomWalk(1), hooks: { ...hooks, afterOp: (ctx, rec) => ((swapped = Math.max(swapped, shmem_swap_entries(ctx.machine).length)), hooks.afterOp?.(ctx, rec)) } },
    );
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.equal(swapped, 1, 'the page was out on swap, as an entry in the file');
    assert.deepEqual(values(r), [4]);
    assert.ok(shmem_files(r.context.machine)[0]!.f_mapping.i_pages.every((e) => !xa_is_value(e)));
  });

  it('MAP_SHARED with MAP_GROWSDOWN is EINVAL; two shared mappings side by side do not merge', () => {
    const ops: Op[] = [
      { op: 'mmap', region: 0, pages: 1, prot: 'rw', shared: true, growsdown: true },
      { op: 'mmap', region: 1, pages: 1, prot: 'rw', shared: true },
      { op: 'mmap', region: 2, pages: 1, prot: 'rw', shared: true },
      { op: 'write', region: 1, page: 0, word: 0, value: 1 },
      { op: 'read', region: 2, page: 0, word: 0 },
    ];
    const r = runProgram({ processes: [{ threads: [ops] }] }, { strategy: new RandomWalk(1), hooks: hooksFor(properties) });
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.equal(r.history.records[0]!.result, -22);
    assert.equal(shmem_files(r.context.machine).length, 2);
    assert.deepEqual(values(r), [0]);
  });
});
