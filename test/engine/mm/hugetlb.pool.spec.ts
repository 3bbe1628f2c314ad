import assert from 'node:assert/strict';
import { kobject_freed } from '../../../engine/index.ts';
import { HUGETLB_PFN_BASE, huge_pfn_frame, hugetlb_folio_put, hugetlb_pfn_folio, hstate } from '../../../engine/mm/hugetlb.ts';
import { reads } from '../../helpers/run.ts';
import { hugetlbfs_create, hugetlbfs_lookup, hugetlbfs_punch_hole } from '../../../engine/fs/hugetlbfs.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { WORDS_PER_PAGE } from '../../../engine/mm/mm_types.ts';
import { folio_get } from '../../../engine/mm/page_alloc.ts';
import { RW, load, run, store } from '../harness.ts';
import { map, H, EFAULT, CLEAN, hmap, hpte, kind, present, pfnOf, cached } from './hugetlb.setup.ts';

describe('engine/mm/hugetlb: hugetlb pool and page cache (mm/hugetlb.ts)', () => {
  it('a fresh huge page reads zero in every word of every base page; pages go out lowest first whatever order they were freed in; an empty pool is SIGBUS', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 4 * H), 0);
      assert.equal(yield* hugetlbfs_create(1, 4 * H), 0);
      const p = yield* hmap('P0', RW, 4 * H);
      for (let i = 0; i < H; i++) for (let w = 0; w < WORDS_PER_PAGE; w++) assert.equal(yield* load(p.mm, p.a + 3 * H + i, w), 0, `page ${i} word ${w}`);
      for (let h = 0; h < 4; h++) assert.equal(yield* store(p.mm, p.a + h * H + H - 1, h + 1, WORDS_PER_PAGE - 1), 0);
      assert.deepEqual([0, 1, 2, 3].map((h) => huge_pfn_frame(pfnOf(p.mm, p.a + h * H))), [1, 2, 3, 0], 'frame 0 went to the first fault');
      assert.equal(hstate().free_huge_pages, 0);
      // The pool is empty: a fault that needs a new page is SIGBUS, and maps nothing.
      const q = yield* hmap('P1', RW, 4 * H, 0, 1);
      assert.equal(yield* load(q.mm, q.a), EFAULT);
      assert.equal(kind(q.mm, q.a), 'none');
      assert.equal(cached(0, 1), undefined);
      // Free frames 2, 1 and 3, in that order (file 0's huge pages 1, 0 and 2).
      for (const h of [1, 0, 2]) assert.equal(yield* hugetlbfs_punch_hole(0, h * H, H), 0);
      assert.equal(hstate().free_huge_pages, 3);
      for (let h = 0; h < 3; h++) assert.equal(yield* store(q.mm, q.a + h * H, 10 + h), 0);
      assert.deepEqual([0, 1, 2].map((h) => pfnOf(q.mm, q.a + h * H)), [1, 2, 3].map((f) => HUGETLB_PFN_BASE + f * H), 'lowest frame first');
      assert.equal(yield* load(q.mm, q.a + 3 * H), EFAULT, 'empty again');
      assert.equal(yield* load(p.mm, p.a + 3 * H + H - 1, WORDS_PER_PAGE - 1), 4, 'the page nobody punched keeps its data');
    });
  });

  it('a fault adds the page to the page cache uptodate and dirty, with a reference for the cache and one for the mapping; stores and DONTNEED keep it so', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const p = yield* hmap('P0', RW, H);
      assert.equal(yield* load(p.mm, p.a + 2), 0);
      const f = cached(0)!;
      assert.equal(hugetlb_pfn_folio(pfnOf(p.mm, p.a)), f);
      assert.equal(f.f_mapping, hugetlbfs_lookup(0)!.f_mapping);
      assert.deepEqual([f.index, f._refcount, f._mapcount, f.flags & CLEAN], [0, 2, 1, CLEAN]);
      assert.equal(yield* store(p.mm, p.a + 5, 7, 1), 0);
      assert.deepEqual(hpte(p.mm, p.a), present(f.pfn, true, true), 'the MMU sets the dirty bit of a writable huge PTE');
      assert.equal(f.flags & CLEAN, CLEAN);
      // DONTNEED zaps the dirty PTE: the file keeps the page, uptodate and dirty.
      assert.equal(yield* do_madvise(p.mm, p.a, H, 'DONTNEED'), 0);
      assert.equal(kind(p.mm, p.a), 'none');
      assert.deepEqual([f._refcount, f._mapcount, f.flags & CLEAN], [1, 0, CLEAN]);
      assert.equal(cached(0), f);
      assert.equal(yield* load(p.mm, p.a + 5, 1), 7);
    });
  });

  it('a page punched out of the file while someone holds a reference leaves the cache clean and !uptodate, and goes back to the pool at the last put', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const p = yield* hmap('P0', RW, H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      const f = cached(0)!;
      folio_get(f);
      const free = hstate().free_huge_pages;
      assert.equal(yield* hugetlbfs_punch_hole(0, 0, H), 0);
      assert.equal(cached(0), undefined);
      assert.equal(kind(p.mm, p.a), 'none');
      assert.equal(f.f_mapping, undefined);
      assert.equal(f.flags & CLEAN, 0, 'hugetlb_delete_from_page_cache: folio_clear_dirty, folio_clear_uptodate');
      assert.deepEqual([f._refcount, f._mapcount], [1, 0]);
      assert.ok(!kobject_freed(f));
      assert.equal(hstate().free_huge_pages, free);
      hugetlb_folio_put(f);
      assert.ok(kobject_freed(f));
      assert.equal(hstate().free_huge_pages, free + 1);
      assert.equal(yield* load(p.mm, p.a), 0, 'punched: a new zeroed page');
    });
  });
});
