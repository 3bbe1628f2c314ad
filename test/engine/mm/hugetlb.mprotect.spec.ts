import assert from 'node:assert/strict';
import { huge_pmd_unshare, hugetlb_change_protection } from '../../../engine/mm/hugetlb.ts';
import { hugetlbfs_create } from '../../../engine/fs/hugetlbfs.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { VM_WRITE } from '../../../engine/mm/mm_types.ts';
import { mmap_write_lock, mmap_write_unlock } from '../../../engine/mm/mmap_lock.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { RO, RW, load, run, store } from '../harness.ts';
import { map, H, EFAULT, hmap, setFlags, slot, hpte, kind, present, cached } from './hugetlb.setup.ts';

describe('engine/mm/hugetlb: hugetlb mprotect (hugetlb_change_protection)', () => {
  it("mprotect of a sharer unshares its page tables: the other process's PTEs are not changed under it", () => {
    const r = run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* hmap('P0', RW, 2 * H);
      const q = yield* hmap('P1', RW, 2 * H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      assert.equal(yield* store(p.mm, p.a + H, 2), 0);
      assert.equal(yield* load(q.mm, q.a), 1);
      assert.equal(yield* load(q.mm, q.a + H), 2);
      const t = [slot(p.mm, p.a)!, slot(p.mm, p.a + H)!];
      assert.deepEqual([slot(q.mm, q.a), slot(q.mm, q.a + H)], t);
      const before = t.map((x) => x.ptes[0]);
      assert.equal(yield* sys_mprotect(q.mm, q.a, 2 * H, RO), 0);
      assert.deepEqual([slot(q.mm, q.a), slot(q.mm, q.a + H)], [undefined, undefined]);
      assert.deepEqual(t.map((x) => x.pt_share_count), [1, 1]);
      assert.deepEqual(t.map((x) => x.ptes[0]), before, "P's PTEs as they were");
      assert.equal(yield* store(p.mm, p.a, 3), 0);
      assert.equal(yield* load(q.mm, q.a), 3);
      assert.notEqual(slot(q.mm, q.a), t[0]);
      assert.deepEqual(hpte(q.mm, q.a), present(cached(0)!.pfn, false, false));
      assert.equal(yield* store(q.mm, q.a, 4), EFAULT);
    });
    assert.deepEqual(r.warnings, [], 'huge_pmd_unshare() with the vma_lock and i_mmap_rwsem held');
  });

  it('hugetlb_change_protection() counts the huge entries it changed and the page tables it unshared', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 3 * H), 0);
      const p = yield* hmap('P0', RW, 3 * H);
      const q = yield* hmap('P1', RW, H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      assert.equal(yield* store(p.mm, p.a + H, 2), 0);
      assert.equal(yield* load(q.mm, q.a), 1);
      const t0 = slot(p.mm, p.a)!;
      assert.equal(t0.pt_share_count, 2);
      yield* mmap_write_lock(p.mm);
      const v = yield* setFlags(p.vma, p.a, p.a + 3 * H, p.vma.vm_flags & ~VM_WRITE);
      // The first page table is unshared, the second changed, the third absent.
      assert.equal(yield* hugetlb_change_protection(v, p.a, p.a + 3 * H), 2);
      yield* mmap_write_unlock(p.mm);
      assert.equal(slot(p.mm, p.a), undefined);
      assert.deepEqual(hpte(p.mm, p.a + H), present(cached(1)!.pfn, false, true));
      assert.deepEqual(t0.ptes[0], present(cached(0)!.pfn, true, true), "Q's PTE as it was");
      assert.equal(t0.pt_share_count, 1);
    });
  });

  it('mprotect of one huge page of a VMA changes that huge PTE only; an empty huge PTE stays empty', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* hmap('P0', RW, 2 * H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      assert.equal(yield* store(p.mm, p.a + H, 2), 0);
      const [f0, f1] = [cached(0)!, cached(1)!];
      assert.equal(yield* sys_mprotect(p.mm, p.a, H, RO), 0);
      assert.deepEqual(hpte(p.mm, p.a), present(f0.pfn, false, true));
      assert.deepEqual(hpte(p.mm, p.a + H), present(f1.pfn, true, true), 'the next huge page is not ours to change');
      assert.equal(yield* store(p.mm, p.a, 3), EFAULT);
      // Zapped by DONTNEED: the page table stays with an empty entry, which
      // mprotect leaves empty.
      assert.equal(yield* do_madvise(p.mm, p.a + H, H, 'DONTNEED'), 0);
      assert.ok(slot(p.mm, p.a + H));
      assert.equal(yield* sys_mprotect(p.mm, p.a + H, H, RO), 0);
      assert.equal(kind(p.mm, p.a + H), 'none');
      assert.equal(f1._mapcount, 0);
      assert.equal(yield* load(p.mm, p.a + H), 2);
      assert.deepEqual(hpte(p.mm, p.a + H), present(f1.pfn, false, false));
    });
  });
});
