import assert from 'node:assert/strict';
import { hugetlbfs_create, vm_mmap_hugetlbfs } from '../../../engine/fs/hugetlbfs.ts';
import { mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { FOLL_WRITE, pin_user_pages, pin_user_pages_fast, unpin_user_page } from '../../../engine/mm/gup.ts';
import { HPAGE_NR_PAGES } from '../../../engine/mm/hugetlb.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { mk_pte, type Folio, type PtePresent } from '../../../engine/mm/mm_types.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { RO, RW, folioAt, load, mapped, pteAt, run, store } from '../harness.ts';
import { EFAULT, NONE, present } from './mprotect.setup.ts';

describe('engine/mm/mprotect: mprotect(PROT_NONE) and protnone PTEs (mprotect.ts, fault.ts)', () => {
  it('PROT_NONE: faulted pages become protnone and unreadable; back to rw they read and write in place', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      assert.equal(yield* store(mm, addr, 5), 0);
      const f = folioAt(mm, addr);
      assert.equal(yield* sys_mprotect(mm, addr, 2, NONE), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(f.pfn, false, true, true), 'present, dirty, protnone');
      assert.equal(f._mapcount, 1, 'still mapped');
      assert.equal(yield* load(mm, addr), EFAULT);
      assert.equal(yield* store(mm, addr, 6), EFAULT);
      assert.equal(yield* load(mm, addr + 1), EFAULT, 'never faulted: refused all the same');
      assert.equal(pteAt(mm, addr + 1)?.kind ?? 'none', 'none', 'and nothing was mapped');
      assert.equal(yield* sys_mprotect(mm, addr, 2, RW), 0);
      // can_change_pte_writable(): exclusive anon, so writable right away.
      assert.deepEqual(pteAt(mm, addr), mk_pte(f.pfn, true, true));
      assert.equal(yield* load(mm, addr), 5);
      assert.equal(yield* store(mm, addr, 6), 0);
      assert.equal(folioAt(mm, addr), f, 'no copy');
      assert.equal(yield* load(mm, addr), 6);
    });
  });

  it('PROT_NONE then PROT_READ: readable, not writable, not protnone', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      assert.equal(yield* sys_mprotect(mm, addr, 1, RO), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, false, true));
      assert.equal(yield* load(mm, addr), 5);
      assert.equal(yield* store(mm, addr, 6), EFAULT);
      // A read-only mapping made PROT_NONE and back to rw: a page read in R/O is exclusive too.
      const { mm: m2, addr: a2 } = yield* mapped(1, RO);
      assert.equal(yield* load(m2, a2), 0);
      assert.equal(yield* sys_mprotect(m2, a2, 1, NONE), 0);
      assert.equal(present(m2, a2).protnone, true);
      assert.equal(yield* sys_mprotect(m2, a2, 1, RW), 0);
      assert.equal(present(m2, a2).write, true);
    });
  });

  it('part of a mapping: only the PTEs of the range change', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      for (let i = 0; i < 3; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* sys_mprotect(mm, addr + 1, 1, NONE), 0);
      assert.deepEqual([0, 1, 2].map((i) => present(mm, addr + i).protnone), [false, true, false]);
      assert.deepEqual([yield* load(mm, addr), yield* load(mm, addr + 1), yield* load(mm, addr + 2)], [1, EFAULT, 3]);
    });
  });

  it('GUP: neither GUP-fast nor the slow path pins through PROT_NONE (pte_access_permitted, check_vma_flags)', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      const ref = f._refcount;
      assert.equal(yield* pin_user_pages_fast(mm, addr, 0), EFAULT);
      assert.equal(yield* pin_user_pages_fast(mm, addr, FOLL_WRITE), EFAULT);
      assert.equal(yield* pin_user_pages(mm, addr, 0), EFAULT);
      assert.deepEqual([f._refcount, f._pincount], [ref, 0], 'nothing grabbed, even for a moment that lasted');
      assert.equal(yield* sys_mprotect(mm, addr, 1, RO), 0);
      const got = yield* pin_user_pages_fast(mm, addr, 0);
      assert.equal(got, f, 'readable again: GUP-fast pins it');
      unpin_user_page(got as Folio);
    });
  });

  it('hugetlb: PROT_NONE makes the huge PTE protnone (huge_pte_modify); rw again reads it', () => {
    run(function* () {
      const H = HPAGE_NR_PAGES;
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const mm = mm_alloc('P0');
      const a = yield* vm_mmap_hugetlbfs(mm, 0, H, RW, 0);
      assert.ok(a > 0);
      assert.equal(yield* store(mm, a + 1, 5), 0);
      assert.equal(yield* sys_mprotect(mm, a, H, NONE), 0);
      const pte = () => mm.pgd[Math.floor(a / 16)]!.ptes[0] as PtePresent;
      assert.equal(pte().protnone, true);
      assert.equal(yield* load(mm, a + 1), EFAULT);
      assert.equal(yield* store(mm, a + 1, 6), EFAULT);
      assert.equal(yield* sys_mprotect(mm, a, H, RW), 0);
      assert.deepEqual([pte().protnone, pte().write], [false, true]);
      assert.equal(yield* load(mm, a + 1), 5);
      yield* mmput(mm);
    });
  });

  it('munmap and exit of PROT_NONE pages free them like any others', () => {
    run(function* () {
      const free = machine().mem.nr_free();
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 5);
      yield* store(mm, addr + 1, 6);
      assert.equal(yield* sys_mprotect(mm, addr, 2, NONE), 0);
      yield* mmput(mm);
      assert.equal(machine().mem.nr_free(), free);
    });
  });
});
