import assert from 'node:assert/strict';
import { kobject_freed, currentStep, type KGen } from '../../../engine/index.ts';
import { HUGETLB_POOL_PAGES, HugetlbVmaLock, hugetlb_hstate_of } from '../../../engine/mm/hugetlb.ts';
import { hugetlbfs_create, hugetlbfs_lookup, hugetlbfs_truncate } from '../../../engine/fs/hugetlbfs.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { type MmStruct } from '../../../engine/mm/mm_types.ts';
import { vm_munmap } from '../../../engine/mm/mmap.ts';
import { RO, RW, kernel, load, run, store } from '../harness.ts';
import { map, H, EFAULT, hmap, slot, kind, present, cached } from './hugetlb.setup.ts';

describe('engine/mm/hugetlb: PMD sharing and the vma_lock (huge_pmd_share, page_table_shareable)', () => {
  it('processes mapping the same file page at other file offsets of their VMAs share its page table', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const q = yield* hmap('Q', RW, H, H);
      assert.equal(yield* store(q.mm, q.a + 4, 1), 0);
      const t = slot(q.mm, q.a)!;
      // S maps the whole file: its second huge page is Q's (svma's vm_pgoff is H).
      const s = yield* hmap('S', RW, 2 * H, 0);
      assert.equal(yield* load(s.mm, s.a + H + 4), 1);
      assert.equal(slot(s.mm, s.a + H), t);
      assert.equal(slot(s.mm, s.a), undefined, 'the first huge page was not touched');
      // R maps the second huge page alone (its own vm_pgoff is H).
      const r = yield* hmap('R', RW, H, H);
      assert.equal(yield* load(r.mm, r.a + 4), 1);
      assert.equal(slot(r.mm, r.a), t);
      assert.equal(t.pt_share_count, 3);
      assert.equal(cached(1)!._mapcount, 1, 'one page table maps it for all three');
    });
  });

  it('MADV_DONTNEED keeps the vma_lock (only the final unmap frees it): the VMA can still share its page table', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const p = yield* hmap('P0', RW, H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      const lock = p.vma.vm_private_data as HugetlbVmaLock;
      assert.ok(lock instanceof HugetlbVmaLock);
      const t = slot(p.mm, p.a)!;
      assert.equal(yield* do_madvise(p.mm, p.a, H, 'DONTNEED'), 0);
      assert.equal(p.vma.vm_private_data, lock);
      assert.equal(lock.vma, p.vma);
      assert.ok(!kobject_freed(lock));
      assert.equal(slot(p.mm, p.a), t, 'the page table stays');
      assert.equal(kind(p.mm, p.a), 'none');
      const q = yield* hmap('P1', RW, H);
      assert.equal(yield* load(q.mm, q.a), 1);
      assert.equal(slot(q.mm, q.a), t);
      assert.equal(t.pt_share_count, 2);
    });
  });

  it("truncate takes each VMA's vma_lock and unmaps the range from it: a page table shared there is let go even where nothing is mapped", () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* hmap('P0', RO, 2 * H);
      assert.equal(yield* load(p.mm, p.a + H), 0);
      assert.equal(yield* do_madvise(p.mm, p.a + H, H, 'DONTNEED'), 0);
      const t = slot(p.mm, p.a + H)!;
      assert.equal(yield* hugetlbfs_truncate(0, H), 0);
      assert.equal(cached(1), undefined);
      // Q's fault beyond the end of the file takes a share of P's (empty)
      // page table before it finds there is no page to map: SIGBUS.
      const q = yield* hmap('P1', RO, 2 * H);
      assert.equal(yield* load(q.mm, q.a + H), EFAULT);
      assert.equal(slot(q.mm, q.a + H), t);
      assert.equal(t.pt_share_count, 2);
      assert.equal(t.ptes[0]!.kind, 'none');
      // Nobody holds a vma_lock: hugetlb_vmdelete_list() gets each at once.
      assert.equal(yield* hugetlbfs_truncate(0, 0), 0);
      assert.equal(slot(p.mm, p.a + H), undefined, 'the first VMA in i_mmap unshares');
      assert.equal(slot(q.mm, q.a + H), t);
      assert.equal(t.pt_share_count, 1);
    });
  });

  /**
   * P maps the file and writes 5, then munmaps while Q runs `q`; Q is run
   * whole at each step of P's munmap. The window that matters: P's final zap
   * has freed its vma_lock and dropped i_mmap_rwsem, but P's VMA is still in
   * i_mmap and its page table is still in its slot (free_pgtables to come).
   */
  function raceMunmap<S extends { inWindow?: boolean }>(q: (st: S, pmm: MmStruct) => KGen<unknown>, check: (st: S, r: ReturnType<typeof kernel>, schedule: string) => void): void {
    const once = (k: number | undefined) => {
      const st = {} as S & { setup?: number; done?: number };
      let pmm: MmStruct | undefined;
      const r = kernel(
        {
          P: function* () {
            assert.equal(yield* hugetlbfs_create(0, H), 0);
            const p = yield* hmap('P0', RW, H);
            pmm = p.mm;
            assert.equal(yield* store(p.mm, p.a, 5), 0);
            st.setup = currentStep();
            assert.equal(yield* vm_munmap(p.mm, p.a, H), 0);
            st.done = currentStep();
          },
          Q: function* () {
            if (pmm === undefined) return;
            st.inWindow = hugetlbfs_lookup(0)!.f_mapping.i_mmap.some((v) => v.vm_mm === pmm && v.vm_private_data === undefined);
            yield* q(st, pmm);
          },
        },
        { schedule: k === undefined ? [] : [{ step: k, task: 1 }] },
      );
      return { r, st };
    };
    const base = once(undefined);
    assert.equal(base.r.violation, undefined);
    let hits = 0;
    // setup is the step in which P's store completed: switch from the next one on.
    for (let k = base.st.setup! + 1; k <= base.st.done!; k++) {
      const { r, st } = once(k);
      check(st, r, `switch to Q at step ${k}`);
      if (st.inWindow) hits++;
    }
    assert.ok(hits > 0, 'no schedule ran Q inside the window');
  }

  it("a VMA whose final unmap has begun is not shared from: a fault racing munmap gets its own page table, which munmap's free_pgtables leaves alone", () => {
    let mm: MmStruct | undefined;
    raceMunmap<{ inWindow?: boolean; value?: number; at?: number }>(
      function* (st) {
        const q = yield* hmap('P1', RW, H);
        mm = q.mm;
        st.at = q.a;
        st.value = yield* load(q.mm, q.a);
      },
      (st, r, s) => {
        assert.equal(r.violation, undefined, `${s}: ${r.violation?.message}`);
        assert.equal(st.value, 5, s);
        const t = slot(mm!, st.at!);
        assert.ok(t && !kobject_freed(t), `${s}: Q's page table was freed under it`);
        assert.equal(t.pt_share_count, 1, s);
        assert.equal(t.ptes[0]!.kind, 'present', s);
      },
    );
  });

  it("truncate inside munmap's window unmaps a VMA that no longer has a vma_lock without one", () => {
    raceMunmap<{ inWindow?: boolean; ret?: number }>(
      function* (st) {
        st.ret = yield* hugetlbfs_truncate(0, 0);
      },
      (st, r, s) => {
        assert.equal(r.violation, undefined, `${s}: ${r.violation?.message}`);
        assert.equal(st.ret, 0, s);
        assert.deepEqual(r.warnings, [], s);
        assert.equal(hugetlb_hstate_of(r.machine)!.free_huge_pages, HUGETLB_POOL_PAGES, `${s}: every huge page back in the pool`);
      },
    );
  });
});
