import assert from 'node:assert/strict';
import { currentStep, up_read, up_write, type KGen } from '../../../engine/index.ts';
import { alloc_hugetlb_folio, huge_pmd_unshare, hugetlb_folio_put, hugetlb_vma_lock_put, hugetlb_vma_lock_read, hugetlb_vma_lock_write, hugetlb_vma_unlock_write, unmap_hugepage_range, type HugetlbFolio } from '../../../engine/mm/hugetlb.ts';
import { hugetlbfs_create } from '../../../engine/fs/hugetlbfs.ts';
import { i_mmap_lock_write, i_mmap_unlock_write } from '../../../engine/fs/fs.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { type VmArea } from '../../../engine/mm/mm_types.ts';
import { RW, kernel, run, store, violates } from '../harness.ts';
import { H, type Mapping, hmap, slot, cached } from './hugetlb.setup.ts';

describe('engine/mm/hugetlb: hugetlb BUG_ONs and lockdep WARNs', () => {
  function* mappedPage(): KGen<Mapping & { f: HugetlbFolio }> {
    assert.equal(yield* hugetlbfs_create(0, H), 0);
    const p = yield* hmap('P0', RW, H);
    assert.equal(yield* store(p.mm, p.a, 1), 0);
    return { ...p, f: cached(0)! };
  }

  it('free_huge_folio: a huge page freed while mapped or while in the page cache; folio_put without a reference', () => {
    violates(function* () {
      const { f } = yield* mappedPage();
      hugetlb_folio_put(f);
      hugetlb_folio_put(f);
    }, 'kernel-bug', /free_huge_folio.*freed while mapped/);
    violates(function* () {
      const p = yield* mappedPage();
      assert.equal(yield* do_madvise(p.mm, p.a, H, 'DONTNEED'), 0);
      hugetlb_folio_put(p.f);
    }, 'kernel-bug', /free_huge_folio.*freed while in the page cache/);
    violates(function* () {
      const f = (yield* alloc_hugetlb_folio())!;
      f._refcount = 0;
      hugetlb_folio_put(f);
    }, 'kernel-bug', /folio_put.*refcount underflow/);
  });

  it('__unmap_hugepage_range: a range that is not whole huge pages; a mapped page whose mapcount is already 0', () => {
    for (const [s, e] of [
      [1, H],
      [0, H - 1],
    ]) {
      violates(function* () {
        const p = yield* mappedPage();
        yield* hugetlb_vma_lock_write(p.vma);
        yield* i_mmap_lock_write(p.vma.vm_file!.f_mapping);
        yield* unmap_hugepage_range(p.vma, p.a + s, p.a + e);
      }, 'kernel-bug', /__unmap_hugepage_range.*not huge page aligned/);
    }
    violates(function* () {
      const p = yield* mappedPage();
      p.f._mapcount = 0;
      yield* do_madvise(p.mm, p.a, H, 'DONTNEED');
    }, 'kernel-bug', /__unmap_hugepage_range.*mapcount underflow/);
  });

  it('KASAN: the rw_semaphore lives inside the vma_lock: a task that slept on it gets it after the vma_lock was freed (a put without a reference of its own) and touches freed memory', () => {
    const once = (k: number | undefined) => {
      const st: { locked?: number; vma?: VmArea } = {};
      const r = kernel(
        {
          T0: function* () {
            const p = yield* mappedPage();
            st.vma = p.vma;
            const lock = p.vma.vm_private_data!;
            yield* hugetlb_vma_lock_write(p.vma);
            st.locked = currentStep();
            yield 'holding the vma_lock';
            const sem = lock.rw_sema;
            hugetlb_vma_lock_put(lock);
            yield* up_write(sem);
          },
          T1: function* () {
            if (!st.vma) return;
            // A fault of the VMA: it read the vma_lock pointer, then sleeps on it.
            const sem = st.vma.vm_private_data!.rw_sema;
            yield* hugetlb_vma_lock_read(st.vma);
            yield* up_read(sem);
          },
        },
        { schedule: k === undefined ? [] : [{ step: k, task: 1 }] },
      );
      return { r, st };
    };
    // A first run finds the step at which T0 holds the lock; then T1 runs from the next one.
    const { r } = once(once(undefined).st.locked! + 1);
    assert.ok(r.violation, 'no violation');
    assert.equal(r.violation.property, 'memory-safety', r.violation.message);
    assert.equal(r.violation.task, 'T1');
    assert.match(r.violation.message, /use-after-free: read of hugetlb_vma_lock#\d+/);
  });

  it('huge_pmd_unshare: BUG on a page table with no sharers; WARN without the vma_lock or i_mmap_rwsem held for write', () => {
    violates(function* () {
      const p = yield* mappedPage();
      const t = slot(p.mm, p.a)!;
      t.pt_share_count = 0;
      yield* hugetlb_vma_lock_write(p.vma);
      yield* i_mmap_lock_write(p.vma.vm_file!.f_mapping);
      huge_pmd_unshare(p.mm, p.vma, p.a, t);
    }, 'kernel-bug', /huge_pmd_unshare.*no sharers/);
    const noVmaLock = run(function* () {
      const p = yield* mappedPage();
      const mapping = p.vma.vm_file!.f_mapping;
      yield* i_mmap_lock_write(mapping);
      assert.equal(huge_pmd_unshare(p.mm, p.vma, p.a, slot(p.mm, p.a)!), 0, 'not shared');
      yield* i_mmap_unlock_write(mapping);
    });
    assert.equal(noVmaLock.warnings.length, 1, noVmaLock.warnings.join('; '));
    assert.match(noVmaLock.warnings[0]!, /huge_pmd_unshare: hugetlb_vma_lock\(.*\) not held/);
    const noIMmap = run(function* () {
      const p = yield* mappedPage();
      yield* hugetlb_vma_lock_write(p.vma);
      assert.equal(huge_pmd_unshare(p.mm, p.vma, p.a, slot(p.mm, p.a)!), 0);
      yield* hugetlb_vma_unlock_write(p.vma);
    });
    assert.equal(noIMmap.warnings.length, 1, noIMmap.warnings.join('; '));
    assert.match(noIMmap.warnings[0]!, /huge_pmd_unshare: .*not held for write/);
  });
});
