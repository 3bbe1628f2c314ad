// shmem (engine/mm/shmem.ts, engine/fs/memfd.ts): the page cache of a memfd
// shared by its mappings, private mappings' COW, reclaim to swap entries in
// the file, swapin and swapoff (shmem_unuse), truncate and hole punch, and
// the race of a hole punch with reclaim writing the folio out.
import assert from 'node:assert/strict';
import { RandomWalk, hooksFor, properties, runProgram, type Op, type Program } from '../../../index.ts';
import { xa_is_value } from '../../../engine/fs/fs.ts';
import { shmem_files, shmem_swap_entries } from '../../../engine/mm/shmem.ts';

const setup: Op[] = [
  { op: 'swapon', dev: 0, slots: 8 },
  { op: 'memfdCreate', file: 0, pages: 3 },
  { op: 'memfdMmap', region: 0, file: 0, page: 0, pages: 3, prot: 'rw', shared: true },
  { op: 'memfdMmap', region: 1, file: 0, page: 0, pages: 3, prot: 'rw', shared: false },
];

function values(r: ReturnType<typeof runProgram>): (number | undefined)[] {
  return r.history.records.filter((x) => x.kind === 'read').map((x) => (x.result < 0 ? x.result : x.value));
}

describe('engine/mm/shmem: memfd files, their page cache and swap', () => {
  it('a shared mapping sees every write to the file; a private one until it writes its own copy', () => {
    const ops: Op[] = [
      ...setup,
      { op: 'write', region: 0, page: 1, word: 0, value: 7 },
      { op: 'read', region: 1, page: 1, word: 0 }, // the file's page: 7
      { op: 'write', region: 1, page: 1, word: 1, value: 9 }, // COW: the private copy
      { op: 'write', region: 0, page: 1, word: 0, value: 8 },
      { op: 'read', region: 1, page: 1, word: 0 }, // its copy keeps 7
      { op: 'read', region: 0, page: 1, word: 1 }, // the file never saw 9
    ];
    const r = runProgram({ processes: [{ threads: [ops] }] }, { strategy: new RandomWalk(1), hooks: hooksFor(properties) });
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.deepEqual(values(r), [7, 7, 0]);
  });

  it('reclaim leaves the swap entry in the file; a fault swaps it back; swapoff takes the rest back (shmem_unuse)', () => {
    let swapped = 0;
    const ops: Op[] = [
      ...setup,
      { op: 'write', region: 0, page: 0, word: 0, value: 5 },
      { op: 'write', region: 0, page: 2, word: 1, value: 6 },
      { op: 'reclaim', victim: 0 },
      { op: 'reclaim', victim: 0 },
      { op: 'read', region: 0, page: 0, word: 0 },
      { op: 'swapoff', dev: 0 },
      { op: 'read', region: 0, page: 2, word: 1 },
    ];
    const r = runProgram(
      { processes: [{ threads: [ops] }] },
      {
        strategy: new RandomWalk(1),
        hooks: { ...hooksFor(properties), afterOp: (ctx, rec) => ((swapped = Math.max(swapped, shmem_swap_entries(ctx.machine).length)), hooksFor(properties).afterOp?.(ctx, rec)) },
      },
    );
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.equal(swapped, 2, 'both written pages were out on swap, as entries in the file');
    assert.deepEqual(values(r), [5, 6]);
    const rec = r.history.records;
    assert.deepEqual(rec.filter((x) => x.kind === 'reclaim' || x.kind === 'swapoff').map((x) => x.result), [1, 1, 0]);
    const file = shmem_files(r.context.machine)[0]!;
    assert.ok(file.f_mapping.i_pages.every((e) => !xa_is_value(e)), 'no swap entry is left after swapoff');
  });

  it('hole punch zeroes the file page but keeps private copies; truncate makes the pages beyond the end fault', () => {
    const ops: Op[] = [
      ...setup,
      { op: 'write', region: 0, page: 1, word: 0, value: 3 },
      { op: 'write', region: 1, page: 2, word: 0, value: 4 },
      { op: 'memfdPunch', file: 0, page: 1, pages: 2 },
      { op: 'read', region: 0, page: 1, word: 0 }, // 0
      { op: 'read', region: 1, page: 2, word: 0 }, // the private copy stays: 4
      { op: 'memfdTruncate', file: 0, pages: 1 },
      { op: 'read', region: 0, page: 1, word: 0 }, // SIGBUS
      { op: 'read', region: 1, page: 2, word: 0 }, // the copy is gone too: SIGBUS
      { op: 'memfdTruncate', file: 0, pages: 3 },
      { op: 'read', region: 1, page: 2, word: 0 }, // the file's zero page
    ];
    const r = runProgram({ processes: [{ threads: [ops] }] }, { strategy: new RandomWalk(1), hooks: hooksFor(properties) });
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.deepEqual(values(r), [0, 4, -14, -14, 0]);
  });

  it('MADV_PAGEOUT pages out the shmem folios mapped once in the range (can_do_file_pageout: the file is ours), leaving their swap entries in the file', () => {
    let swapped = 0;
    const ops: Op[] = [
      ...setup,
      { op: 'write', region: 0, page: 0, word: 0, value: 5 },
      { op: 'mmap', region: 2, pages: 1, prot: 'rw', shared: true },
      { op: 'write', region: 2, page: 0, word: 0, value: 6 },
      { op: 'madvise', region: 0, page: 0, pages: 3, advice: 'PAGEOUT' },
      { op: 'madvise', region: 2, page: 0, pages: 1, advice: 'PAGEOUT' },
      { op: 'read', region: 0, page: 0, word: 0 },
      { op: 'read', region: 2, page: 0, word: 0 },
    ];
    const hooks = hooksFor(properties);
    const r = runProgram(
      { processes: [{ threads: [ops] }] },
      { strategy: new RandomWalk(1), hooks: { ...hooks, afterOp: (ctx, rec) => ((swapped = Math.max(swapped, shmem_swap_entries(ctx.machine).length)), hooks.afterOp?.(ctx, rec)) } },
    );
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.equal(swapped, 2, 'the memfd page and the shared anonymous page were both out on swap');
    assert.deepEqual(values(r), [5, 6]);
  });

  it('a hole punch that waited on a folio reclaim wrote out meanwhile goes back for its swap entry ("Page was replaced by swap: retry")', () => {
    const program: Program = {
      frames: 16,
      processes: [
        { threads: [[...setup.slice(0, 3), { op: 'write', region: 0, page: 0, word: 0, value: 7 }, { op: 'fork', child: 1 }, { op: 'memfdPunch', file: 0, page: 0, pages: 1 }, { op: 'read', region: 0, page: 0, word: 0 }]] },
        { threads: [[{ op: 'reclaim', victim: 0 }, { op: 'reclaim', victim: 0 }]] },
      ],
    };
    let retried = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = runProgram(program, { strategy: new RandomWalk(seed), hooks: hooksFor(properties), trace: true });
      assert.equal(r.violation, undefined, `seed ${seed}: ${r.violation?.property}: ${r.violation?.message}`);
      assert.deepEqual(values(r), [0], `seed ${seed}: the punched page reads zero`);
      // A one-page hole takes one find_get_entries() batch, unless it went back.
      const punch = r.history.records.find((x) => x.kind === 'memfdPunch')!;
      const task = r.trace!.taskNames.indexOf(punch.thread);
      const lookups = r.trace!.entries.filter((e) => e.task === task && e.step >= punch.start && e.step <= punch.end && e.label === 'find_get_entries: xas_find');
      if (lookups.length > 1) retried++;
    }
    assert.ok(retried > 0, 'the retry ran');
  });
});
