import assert from 'node:assert/strict';
import type { KGen } from '../../../engine/index.ts';
import { hugetlbfs_create, vm_mmap_hugetlbfs } from '../../../engine/fs/hugetlbfs.ts';
import { dup_mm, mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { FOLL_WRITE, pin_user_pages, pin_user_pages_fast, unpin_user_page } from '../../../engine/mm/gup.ts';
import { HPAGE_NR_PAGES } from '../../../engine/mm/hugetlb.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { migrate_folio } from '../../../engine/mm/migrate.ts';
import { mk_pte, type Folio, type MmStruct, type PtePresent } from '../../../engine/mm/mm_types.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import { folio_get } from '../../../engine/mm/page_alloc.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { sys_swapoff, sys_swapon } from '../../../engine/mm/swapfile.ts';
import { RO, RW, folioAt, kernel, layout, load, mapped, pteAt, run, store } from '../harness.ts';

const EFAULT = -14;
const NONE = 0;

const present = (mm: MmStruct, a: number): PtePresent => {
  const p = pteAt(mm, a);
  assert.ok(p && p.kind === 'present', `no present PTE at ${a}: ${p?.kind}`);
  return p;
};

function* migrate(f: Folio): KGen<boolean> {
  folio_get(f); // the isolation reference, which migrate_folio drops
  return yield* migrate_folio(f);
}

/**
 * mprotect(PROT_NONE) (mm/mprotect.c change_pte_range(): pte_modify() with
 * the VMA's new vm_page_prot): the PTEs stay present for the kernel but
 * become protnone, so the MMU faults on every user access and
 * do_user_addr_fault()'s access_error() refuses it (SIGSEGV: EFAULT here).
 */

/** mremap() to the size a mapping already has (mm/mremap.c: old_len == new_len returns addr). */

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

  it('fork: the child inherits the protnone PTE and the protection; the pages are still shared', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      const child = yield* dup_mm(mm, 'P1');
      assert.ok(typeof child !== 'number');
      assert.deepEqual(pteAt(child, addr), mk_pte(f.pfn, false, true, true));
      assert.equal(yield* load(child, addr), EFAULT);
      assert.equal(yield* sys_mprotect(child, addr, 1, RW), 0);
      assert.equal(present(child, addr).write, false, 'shared with the parent: COW on the next write');
      assert.equal(yield* load(child, addr), 5);
      assert.equal(yield* store(child, addr, 6), 0);
      assert.notEqual(folioAt(child, addr), f);
      assert.equal(yield* load(mm, addr), EFAULT, 'the parent is still PROT_NONE');
      yield* mmput(child);
    });
  });

  it('fork copies a pinned page of a PROT_NONE mapping into a protnone PTE (copy_present_page)', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const pinned = yield* pin_user_pages(mm, addr, FOLL_WRITE);
      assert.ok(typeof pinned !== 'number');
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      const child = yield* dup_mm(mm, 'P1');
      assert.ok(typeof child !== 'number');
      const c = folioAt(child, addr);
      assert.notEqual(c, pinned, 'a maybe-pinned page is copied');
      assert.deepEqual(pteAt(child, addr), mk_pte(c.pfn, false, true, true));
      assert.equal(yield* load(child, addr), EFAULT);
      assert.equal(yield* sys_mprotect(child, addr, 1, RW), 0);
      assert.equal(yield* load(child, addr), 5);
      unpin_user_page(pinned);
      yield* mmput(child);
    });
  });

  it('swap: a protnone page is swapped out; swapoff maps it back protnone (unuse_pte); rw again reads it', () => {
    run(function* () {
      const t = yield* sys_swapon(4);
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      assert.equal(yield* do_madvise(mm, addr, 1, 'PAGEOUT'), 0);
      assert.equal(pteAt(mm, addr)?.kind, 'swap');
      assert.equal(yield* load(mm, addr), EFAULT, 'no swap-in for an access that is refused');
      assert.equal(pteAt(mm, addr)?.kind, 'swap');
      assert.equal(yield* sys_swapoff(t), 0);
      assert.equal(present(mm, addr).protnone, true);
      assert.equal(yield* load(mm, addr), EFAULT);
      assert.equal(yield* sys_mprotect(mm, addr, 1, RW), 0);
      assert.equal(yield* load(mm, addr), 5);
      assert.equal(yield* store(mm, addr, 6), 0);
    });
  });

  it('migration: a protnone PTE comes back protnone on the new page (remove_migration_pte)', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      const f = folioAt(mm, addr);
      assert.equal(yield* migrate(f), true);
      const g = folioAt(mm, addr);
      assert.notEqual(g, f);
      assert.deepEqual(pteAt(mm, addr), mk_pte(g.pfn, false, false, true));
      assert.ok(PageAnonExclusive(g), 'the read-exclusive entry kept exclusivity');
      assert.equal(yield* load(mm, addr), EFAULT);
      assert.equal(yield* sys_mprotect(mm, addr, 1, RW), 0);
      assert.deepEqual([yield* load(mm, addr), present(mm, addr).write], [5, true]);
    });
  });

  it('mprotect read-only meets a writable migration entry: it becomes readable-exclusive, and the new page comes back read-only', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      const t = mm.pgd[Math.floor(addr / 16)]!;
      // What try_to_migrate_one() leaves for a writable exclusive page.
      t.ptes[addr % 16] = { kind: 'migration', pfn: f.pfn, mode: 'write' };
      assert.equal(yield* sys_mprotect(mm, addr, 1, RO), 0);
      assert.deepEqual(pteAt(mm, addr), { kind: 'migration', pfn: f.pfn, mode: 'read-exclusive' });
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      assert.deepEqual(pteAt(mm, addr), { kind: 'migration', pfn: f.pfn, mode: 'read-exclusive' }, 'a read entry stays');
      t.ptes[addr % 16] = mk_pte(f.pfn, true, true); // (put back by hand: no migration is running)
    });
  });

  it('mprotect(PROT_READ) racing a migration of a written page: the new page never comes back writable', () => {
    let met = 0;
    for (let k = 0; k < 80; k++) {
      let m: { mm: MmStruct; addr: number } | undefined;
      let done = false;
      const r = kernel(
        {
          T0: function* () {
            m = yield* mapped(1);
            // T1's mprotect may come first: then there is nothing to migrate.
            if ((yield* store(m.mm, m.addr, 5)) === 0) yield* migrate(folioAt(m.mm, m.addr));
          },
          T1: function* () {
            if (!m) return;
            const p = pteAt(m.mm, m.addr);
            if (p?.kind === 'migration' && p.mode === 'write') met++;
            assert.equal(yield* sys_mprotect(m.mm, m.addr, 1, RO), 0);
            done = true;
          },
        },
        { schedule: [{ step: k, task: 1 }] },
      );
      assert.equal(r.violation, undefined, r.violation?.message);
      // Too early (no mapping yet): T1 did nothing; before the store: no page.
      const p = m && pteAt(m.mm, m.addr);
      if (done && p?.kind === 'present') assert.equal(p.write, false, `switch at step ${k}: writable after mprotect(PROT_READ)`);
    }
    assert.ok(met > 0, 'no schedule had mprotect meet a writable migration entry');
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

describe('engine/mm/mprotect: mremap to the same size (mremap.ts)', () => {
  it('returns addr and changes nothing, with or without MREMAP_MAYMOVE', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      yield* store(mm, addr + 2, 5);
      const before = layout(mm);
      const pte = pteAt(mm, addr + 2);
      assert.equal(yield* sys_mremap(mm, addr, 3, 3, 0), addr);
      assert.equal(yield* sys_mremap(mm, addr, 3, 3, MREMAP_MAYMOVE), addr);
      assert.equal(yield* sys_mremap(mm, addr + 1, 1, 1, 0), addr + 1, 'part of a VMA');
      assert.deepEqual(layout(mm), before);
      assert.equal(pteAt(mm, addr + 2), pte);
      assert.equal(yield* load(mm, addr + 2), 5);
      assert.equal(yield* sys_mremap(mm, addr + 10, 1, 1, 0), EFAULT, 'still needs a VMA at addr');
      assert.ok(!mm.mmap_lock.isLocked());
    });
  });
});
