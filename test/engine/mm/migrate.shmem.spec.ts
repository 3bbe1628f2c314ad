// Migration of shmem page-cache folios (engine/mm/migrate.ts: migrate_file_folio,
// migrate_folio_file, __folio_migrate_mapping_file): kcompactd moves a folio of
// a shared anonymous mapping or a memfd, mapped or not, to a new frame; its
// i_pages slot and every PTE follow, and the data and the dirty bit go with it.
import assert from 'node:assert/strict';
import { RandomWalk, hooksFor, properties, runProgram, type Op } from '../../../index.ts';
import { shmem_files } from '../../../engine/mm/shmem.ts';
import { xa_is_value } from '../../../engine/fs/fs.ts';

function pfnAt(m: Parameters<typeof shmem_files>[0], file: number, index: number): number | undefined {
  const e = shmem_files(m)[file]?.f_mapping.i_pages[index];
  return e && !xa_is_value(e) ? e.pfn : undefined;
}

describe('engine/mm/migrate: shmem page-cache folios', () => {
  it('a mapped shared folio moves: the other process sees the data through the new frame, and writes after reach the file', () => {
    const pfns: (number | undefined)[] = [];
    const hooks = hooksFor(properties);
    const p = {
      processes: [
        {
          threads: [
            [
              { op: 'mmap', region: 0, pages: 1, prot: 'rw', shared: true },
              { op: 'write', region: 0, page: 0, word: 0, value: 6 },
              { op: 'fork', child: 1 },
            ] as Op[],
          ],
        },
        { threads: [[{ op: 'read', region: 0, page: 0, word: 0 }, { op: 'migrate', victim: 0 }, { op: 'read', region: 0, page: 0, word: 0 }, { op: 'write', region: 0, page: 0, word: 1, value: 7 }, { op: 'read', region: 0, page: 0, word: 1 }] as Op[]] },
      ],
    };
    const r = runProgram(p, {
      strategy: new RandomWalk(1),
      hooks: {
        ...hooks,
        afterOp: (ctx, rec) => {
          if (rec.kind === 'migrate' || rec.kind === 'fork') pfns.push(pfnAt(ctx.machine, 0, 0));
          return hooks.afterOp?.(ctx, rec);
        },
      },
    });
    assert.equal(r.violation, undefined, r.violation?.message);
    const mig = r.history.records.find((x) => x.kind === 'migrate')!;
    assert.equal(mig.result, 1, 'the folio moved');
    assert.notEqual(pfns[0], pfns[1], 'the page cache holds the new frame');
    assert.deepEqual(r.history.records.filter((x) => x.kind === 'read').map((x) => x.value), [6, 6, 7]);
  });

  it('an unmapped memfd folio moves too (page cache only), and keeps its data', () => {
    const ops: Op[] = [
      { op: 'memfdCreate', file: 0, pages: 2 },
      { op: 'memfdMmap', region: 0, file: 0, page: 0, pages: 2, prot: 'rw', shared: true },
      { op: 'write', region: 0, page: 1, word: 0, value: 9 },
      { op: 'madvise', region: 0, page: 0, pages: 2, advice: 'DONTNEED' },
      { op: 'migrate', victim: 0 },
      { op: 'read', region: 0, page: 1, word: 0 },
    ];
    const r = runProgram({ processes: [{ threads: [ops] }] }, { strategy: new RandomWalk(1), hooks: hooksFor(properties) });
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.equal(r.history.records.find((x) => x.kind === 'migrate')!.result, 1);
    assert.equal(r.history.records.find((x) => x.kind === 'read')!.value, 9);
  });
});
