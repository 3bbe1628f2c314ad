import assert from 'node:assert/strict';
import { SINGLE_DEPTH_NESTING } from '../../../engine/index.ts';
import { hugetlbfs_create } from '../../../engine/fs/hugetlbfs.ts';
import { handle_mm_fault } from '../../../engine/mm/memory.ts';
import { FAULT_FLAG_WRITE, VM_WRITE } from '../../../engine/mm/mm_types.ts';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from '../../../engine/mm/mmap_lock.ts';
import { change_protection } from '../../../engine/mm/mprotect.ts';
import { RO, RW, load, run, store } from '../harness.ts';
import { H, EFAULT, hmap, setFlags, slot, hpte, present, cached } from './hugetlb.setup.ts';

describe('engine/mm/hugetlb: hugetlb faults (hugetlb_fault, hugetlb_no_page, hugetlb_wp)', () => {
  it('a read-only mapping maps the page write-protected and clean; a store through it is refused', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const w = yield* hmap('P0', RW, H);
      assert.equal(yield* store(w.mm, w.a + 1, 3), 0);
      const p = yield* hmap('P1', RO, H);
      assert.equal(yield* load(p.mm, p.a + 1), 3);
      assert.notEqual(slot(p.mm, p.a), slot(w.mm, w.a), 'other flags: not shared');
      assert.deepEqual(hpte(p.mm, p.a), present(cached(0)!.pfn, false, false));
      assert.equal(yield* store(p.mm, p.a + 1, 4), EFAULT);
      assert.equal(yield* load(w.mm, w.a + 1), 3);
    });
  });

  it('the fault handler: a write fault maps the page writable and dirty; a spurious read fault changes nothing', () => {
    const r = run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* hmap('P0', RW, 2 * H);
      yield* mmap_read_lock(p.mm);
      assert.equal(yield* handle_mm_fault(p.vma, p.a + 3, FAULT_FLAG_WRITE), 0);
      yield* mmap_read_unlock(p.mm);
      assert.deepEqual(hpte(p.mm, p.a), present(cached(0)!.pfn, true, true), 'make_huge_pte(): writable and dirty');
      // A read fault on a present PTE (another thread mapped it meanwhile).
      assert.equal(yield* load(p.mm, p.a + H), 0);
      const q = yield* hmap('P1', RO, H, H);
      assert.equal(yield* load(q.mm, q.a), 0);
      for (const [m, addr] of [
        [p, p.a + H],
        [q, q.a],
      ] as const) {
        const before = hpte(m.mm, addr);
        yield* mmap_read_lock(m.mm);
        assert.equal(yield* handle_mm_fault(m.vma, addr + 1, 0), 0);
        yield* mmap_read_unlock(m.mm);
        assert.deepEqual(hpte(m.mm, addr), before, `${m.mm.owner}: spurious read fault`);
      }
    });
    assert.deepEqual(r.warnings, []);
  });

  it('hugetlb_wp: a write fault that finds the shared huge PTE write-protected makes it writable and dirty (mprotect to rw, between the flags and the PTEs)', () => {
    const r = run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const p = yield* hmap('P0', RO, H);
      assert.equal(yield* load(p.mm, p.a), 0);
      const t = slot(p.mm, p.a)!;
      const q = yield* hmap('P1', RW, H);
      // mprotect(P, rw) has given the VMA its new flags; change_protection()
      // has not yet taken i_mmap_rwsem. P's VMA now has Q's flags. (One task
      // plays both processes: P's mmap_lock is taken nested, as fork does.)
      yield* mmap_write_lock(p.mm, SINGLE_DEPTH_NESTING);
      const pv = yield* setFlags(p.vma, p.a, p.a + H, p.vma.vm_flags | VM_WRITE);
      assert.equal(pv.vm_flags, q.vma.vm_flags);
      // Q's write fault shares P's page table and finds the PTE read-only.
      yield* mmap_read_lock(q.mm);
      assert.equal(yield* handle_mm_fault(q.vma, q.a + 2, FAULT_FLAG_WRITE), 0);
      yield* mmap_read_unlock(q.mm);
      assert.equal(slot(q.mm, q.a), t);
      assert.equal(t.pt_share_count, 2);
      assert.deepEqual(t.ptes[0], present(cached(0)!.pfn, true, true), 'set_huge_ptep_writable(): a shared mapping never copies');
      assert.equal(yield* store(q.mm, q.a + 2, 9), 0);
      // mprotect goes on: P lets go of the table rather than change it under Q.
      yield* change_protection(pv, p.a, p.a + H);
      yield* mmap_write_unlock(p.mm);
      assert.equal(slot(p.mm, p.a), undefined);
      assert.equal(t.pt_share_count, 1);
      assert.equal(yield* load(p.mm, p.a + 2), 9);
      assert.equal(slot(p.mm, p.a), t, 'same flags now: P shares it again');
      assert.equal(t.pt_share_count, 2);
    });
    assert.deepEqual(r.warnings, []);
  });
});
