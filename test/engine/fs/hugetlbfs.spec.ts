import assert from 'node:assert/strict';
import { EBADF, EEXIST, HUGETLBFS_MAX_HPAGES, hugetlbfs_create, hugetlbfs_lookup, hugetlbfs_punch_hole, hugetlbfs_truncate, vm_mmap_hugetlbfs } from '../../../engine/fs/hugetlbfs.ts';
import { mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { HPAGE_NR_PAGES, HUGETLB_POOL_PAGES, hstate } from '../../../engine/mm/hugetlb.ts';
import { RW, load, run, store } from '../harness.ts';

const EINVAL = -22;

describe('engine/fs/hugetlbfs: hugetlbfs syscalls (fs/hugetlbfs.ts, mm/hugetlb.ts)', () => {
  const H = HPAGE_NR_PAGES;

  it('create: whole huge pages up to the pool, once per name', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, -H), EINVAL);
      assert.equal(yield* hugetlbfs_create(0, 1), EINVAL);
      assert.equal(yield* hugetlbfs_create(0, (HUGETLBFS_MAX_HPAGES + 1) * H), EINVAL);
      assert.equal(yield* hugetlbfs_create(0, HUGETLBFS_MAX_HPAGES * H), 0);
      assert.equal(hugetlbfs_lookup(0)!.f_inode.i_size, HUGETLBFS_MAX_HPAGES * H);
      assert.equal(yield* hugetlbfs_create(0, H), -EEXIST);
      assert.equal(yield* hugetlbfs_create(1, 0), 0, 'an empty file');
      assert.equal(hugetlbfs_lookup(1)!.f_inode.i_size, 0);
    });
  });

  it('truncate and punch: a file must exist; sizes in whole huge pages; offsets and lengths positive', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_truncate(3, H), -EBADF);
      assert.equal(yield* hugetlbfs_punch_hole(3, 0, H), -EBADF);
      assert.equal(yield* hugetlbfs_create(3, 2 * H), 0);
      assert.equal(yield* hugetlbfs_truncate(3, 1), EINVAL);
      assert.equal(yield* hugetlbfs_truncate(3, -H), EINVAL);
      assert.equal(yield* hugetlbfs_truncate(3, (HUGETLBFS_MAX_HPAGES + 1) * H), EINVAL);
      assert.equal(yield* hugetlbfs_punch_hole(3, -1, H), EINVAL);
      assert.equal(yield* hugetlbfs_punch_hole(3, 0, 0), EINVAL);
      assert.equal(yield* hugetlbfs_truncate(3, 3 * H), 0);
      assert.equal(hugetlbfs_lookup(3)!.f_inode.i_size, 3 * H);
      assert.equal(yield* hugetlbfs_punch_hole(3, 1, H), 0, 'no whole page inside: nothing to do');
    });
  });

  it('mmap of a file: huge-page aligned, shared data between processes; punch and truncate drop pages back to the pool', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const a = mm_alloc('P0');
      const b = mm_alloc('P1');
      const pa = yield* vm_mmap_hugetlbfs(a, 0, 2 * H, RW, 0);
      const pb = yield* vm_mmap_hugetlbfs(b, 0, H, RW, H);
      assert.ok(pa > 0 && pb > 0);
      assert.equal(pa % H, 0);
      assert.equal(pb % H, 0);
      assert.equal(yield* vm_mmap_hugetlbfs(a, 0, H + 1, RW, 0), EINVAL, 'not whole huge pages');
      assert.equal(yield* store(a, pa + H + 3, 42), 0);
      assert.equal(yield* load(b, pb + 3), 42, 'the second huge page of the file, seen from b');
      assert.equal(yield* load(a, pa + 3), 0);
      const pool = hstate();
      const used = HUGETLB_POOL_PAGES - pool.free_huge_pages;
      assert.equal(used, 2);
      assert.equal(yield* hugetlbfs_punch_hole(0, H, H), 0);
      assert.equal(yield* load(b, pb + 3), 0, 'punched: reads zero');
      assert.equal(yield* hugetlbfs_truncate(0, 0), 0);
      const beyond = yield* load(a, pa + 3);
      assert.ok(beyond < 0, `a page beyond the end of the file cannot be faulted (${beyond})`);
      yield* mmput(a);
      yield* mmput(b);
      assert.equal(pool.free_huge_pages, HUGETLB_POOL_PAGES, 'every huge page back in the pool');
    });
  });
});
