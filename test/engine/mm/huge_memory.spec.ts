import assert from 'node:assert/strict';
import type { KGen } from '../../../engine/index.ts';
import { dup_mm, mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { FOLL_LONGTERM, FOLL_WRITE, pin_user_pages, pin_user_pages_fast, unpin_user_page } from '../../../engine/mm/gup.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { HPAGE_PMD_NR, VM_HUGEPAGE, mk_huge_pmd, page_folio, pmd_trans_huge, type Folio, type MmStruct, type Page, type PmdHuge, type PteTable } from '../../../engine/mm/mm_types.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { pfn_folio } from '../../../engine/mm/page_alloc.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { PROT_READ, PROT_WRITE, vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { MREMAP_DONTUNMAP, MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import { RW, load, mapped, pteAt, store } from '../harness.ts';
import { runThpTask } from './thp.setup.ts';

const FRAMES = 48;

const runThp = (body: () => KGen<unknown>): void => void runThpTask(body, { nr_frames: FRAMES });

/** A THP-sized, THP-aligned mapping with MADV_HUGEPAGE, its first page written: a PMD-mapped THP. */
function* thp(): KGen<{ mm: MmStruct; addr: number; folio: Folio }> {
  const { mm, addr } = yield* mapped(HPAGE_PMD_NR);
  assert.equal(addr % HPAGE_PMD_NR, 0, 'a PMD-sized anonymous mapping is PMD-aligned');
  assert.equal(yield* do_madvise(mm, addr, HPAGE_PMD_NR, 'HUGEPAGE'), 0);
  assert.ok(mm.mmap[0]!.vm_flags & VM_HUGEPAGE);
  assert.equal(yield* store(mm, addr, 1), 0);
  const pmd = mm.pgd[pmd_index(addr)];
  assert.ok(pmd_trans_huge(pmd), 'the write fault mapped a huge PMD');
  return { mm, addr, folio: pfn_folio(pmd.pfn) };
}

const head = (f: Folio): Page => f.pages![0]!;
const counts = (f: Folio): number[] => [f._refcount, f._mapcount, f._entire_mapcount];

describe('engine/mm/huge_memory: anonymous THPs at PMD level (huge_memory.ts)', () => {
  it('do_huge_pmd_anonymous_page maps a zeroed, exclusive THP by one PMD, with a deposited table; munmap frees all of it', () => {
    runThp(function* () {
      const { mm, addr, folio } = yield* thp();
      assert.equal(folio.order, 4);
      assert.deepEqual(mm.pgd[pmd_index(addr)], mk_huge_pmd(folio.pfn, true, true));
      assert.deepEqual(counts(folio), [1, 1, 1]);
      assert.equal(PageAnonExclusive(head(folio)), true, 'the head page speaks for the PMD');
      assert.equal(PageAnonExclusive(folio.pages![5]!), false);
      assert.equal(mm.pmd_huge_pte.length, 1);
      assert.equal(yield* load(mm, addr + 7), 0);
      yield* store(mm, addr + 7, 9, 1);
      assert.deepEqual(folio.pages![7]!.data, [0, 9]);
      assert.equal(machine().mem.nr_free(), FRAMES - HPAGE_PMD_NR);
      assert.equal(yield* vm_munmap(mm, addr, HPAGE_PMD_NR), 0);
      assert.equal(mm.pgd[pmd_index(addr)], undefined);
      assert.equal(mm.pmd_huge_pte.length, 0, 'zap_huge_pmd freed the deposit');
      assert.equal(machine().mem.nr_free(), FRAMES);
    });
  });

  it('without MADV_HUGEPAGE (or after MADV_NOHUGEPAGE) faults map PTEs', () => {
    runThp(function* () {
      const { mm, addr } = yield* mapped(HPAGE_PMD_NR);
      yield* store(mm, addr, 1);
      assert.equal(pteAt(mm, addr)?.kind, 'present');
      const b = yield* mapped(HPAGE_PMD_NR);
      assert.equal(yield* do_madvise(b.mm, b.addr, HPAGE_PMD_NR, 'NOHUGEPAGE'), 0);
      yield* store(b.mm, b.addr, 1);
      assert.equal(pteAt(b.mm, b.addr)?.kind, 'present');
    });
  });

  it('fork shares the THP write-protected; a write then splits the PMD and COWs only the one subpage', () => {
    runThp(function* () {
      const { mm, addr, folio } = yield* thp();
      yield* store(mm, addr + 3, 33);
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      assert.deepEqual(mm.pgd[pmd_index(addr)], mk_huge_pmd(folio.pfn, false, true));
      assert.equal(child.pgd[pmd_index(addr)], mm.pgd[pmd_index(addr)]);
      assert.deepEqual(counts(folio), [2, 2, 2]);
      assert.equal(PageAnonExclusive(head(folio)), false, 'fork cleared the head page bit');
      // The child writes: do_huge_pmd_wp_page cannot reuse (refcount 2), splits, falls back.
      yield* store(child, addr + 3, 44);
      const t = child.pgd[pmd_index(addr)] as PteTable;
      assert.ok(!pmd_trans_huge(t), "the child's PMD was split");
      const copy = pteAt(child, addr + 3)!;
      assert.ok(copy.kind === 'present' && copy.write && pfn_folio(copy.pfn) !== folio, 'the written subpage was copied');
      assert.deepEqual(pteAt(child, addr + 4), { kind: 'present', pfn: folio.pfn + 4, write: false, dirty: true, protnone: false });
      // The folio: the parent's PMD, 15 of the child's PTEs.
      assert.deepEqual(counts(folio), [16, 16, 1]);
      assert.equal(folio.pages![3]!._mapcount, 0);
      assert.equal(folio.pages![4]!._mapcount, 1);
      assert.equal(yield* load(mm, addr + 3), 33, 'the parent keeps its data');
      assert.equal(yield* load(child, addr + 3), 44);
      // The parent writes: its THP is not exclusive either (refcount 16): split too.
      yield* store(mm, addr + 5, 55);
      assert.ok(!pmd_trans_huge(mm.pgd[pmd_index(addr)]));
      assert.equal(yield* load(child, addr + 5), 0);
      yield* mmput(child);
      yield* mmput(mm);
      assert.equal(machine().mem.nr_free(), FRAMES, 'nothing leaked');
    });
  });

  it('fork of a pinned THP splits the parent PMD and copies the PTEs: the child gets its own copies, the pin stays coherent', () => {
    runThp(function* () {
      const { mm, addr, folio } = yield* thp();
      yield* store(mm, addr + 2, 22);
      const page = (yield* pin_user_pages(mm, addr + 2, FOLL_WRITE | FOLL_LONGTERM)) as Page;
      assert.equal(page, folio.pages![2]);
      assert.deepEqual([folio._refcount, folio._pincount], [2, 1]);
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      assert.ok(!pmd_trans_huge(mm.pgd[pmd_index(addr)]), 'copy_huge_pmd split the maybe-pinned THP');
      const parentPte = pteAt(mm, addr + 2)!;
      assert.ok(parentPte.kind === 'present' && parentPte.pfn === page.pfn && parentPte.write, 'the parent still maps the pinned page, writable');
      assert.ok(PageAnonExclusive(page));
      const childPte = pteAt(child, addr + 2)!;
      assert.ok(childPte.kind === 'present' && pfn_folio(childPte.pfn) !== folio, 'the child got a copy');
      assert.equal(yield* load(child, addr + 2), 22);
      yield* store(mm, addr + 2, 23);
      assert.equal(page.data[0], 23, 'the pin sees the parent write');
      assert.equal(yield* load(child, addr + 2), 22);
      unpin_user_page(page);
      yield* mmput(child);
      yield* mmput(mm);
      assert.equal(machine().mem.nr_free(), FRAMES);
    });
  });

  it('a R/O pin of a shared THP unshares: the PMD splits and the pinned subpage becomes an exclusive copy (slow path; GUP-fast refuses)', () => {
    runThp(function* () {
      const { mm, addr, folio } = yield* thp();
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      const p = (yield* pin_user_pages_fast(mm, addr + 1, FOLL_LONGTERM)) as Folio;
      assert.notEqual(page_folio(p), folio, 'the pin holds a fresh exclusive copy');
      assert.ok(PageAnonExclusive(p));
      const pte = pteAt(mm, addr + 1)!;
      assert.ok(pte.kind === 'present' && pte.pfn === p.pfn && !pte.write, 'mapped R/O (unshare)');
      unpin_user_page(p);
      yield* mmput(child);
      yield* mmput(mm);
    });
  });

  it('GUP-fast pins a subpage of an exclusive PMD-mapped THP without splitting it', () => {
    runThp(function* () {
      const { mm, addr, folio } = yield* thp();
      const p = (yield* pin_user_pages_fast(mm, addr + 9, 0)) as Page;
      assert.equal(p, folio.pages![9]);
      assert.ok(pmd_trans_huge(mm.pgd[pmd_index(addr)]));
      assert.deepEqual([folio._refcount, folio._pincount], [2, 1]);
      unpin_user_page(p);
      assert.deepEqual([folio._refcount, folio._pincount], [1, 0]);
    });
  });

  it('MADV_DONTNEED of part of a THP splits it and zaps only that part; PG_anon_exclusive went to every subpage', () => {
    runThp(function* () {
      const { mm, addr, folio } = yield* thp();
      yield* store(mm, addr + 6, 66);
      assert.equal(yield* do_madvise(mm, addr + 2, 3, 'DONTNEED'), 0);
      assert.ok(!pmd_trans_huge(mm.pgd[pmd_index(addr)]));
      for (let i = 0; i < HPAGE_PMD_NR; i++) assert.equal(PageAnonExclusive(folio.pages![i]!), true, `page ${i}`);
      assert.equal(pteAt(mm, addr + 3)?.kind, 'none');
      assert.deepEqual(counts(folio), [13, 13, 0]);
      assert.equal(yield* load(mm, addr + 6), 66);
      assert.equal(yield* load(mm, addr + 3), 0, 'zapped: zero-fill');
      // A write to a split subpage is a plain write through a writable PTE.
      yield* store(mm, addr + 6, 67);
      assert.equal(folio.pages![6]!.data[0], 67);
    });
  });

  it('mprotect of the whole THP changes the PMD; of a part, splits the VMA and the PMD first', () => {
    runThp(function* () {
      const { mm, addr, folio } = yield* thp();
      assert.equal(yield* sys_mprotect(mm, addr, HPAGE_PMD_NR, PROT_READ), 0);
      assert.deepEqual(mm.pgd[pmd_index(addr)], mk_huge_pmd(folio.pfn, false, true));
      assert.equal(yield* sys_mprotect(mm, addr, HPAGE_PMD_NR, PROT_READ | PROT_WRITE), 0);
      assert.deepEqual(mm.pgd[pmd_index(addr)], mk_huge_pmd(folio.pfn, true, true), 'exclusive: writable again at once');
      assert.equal(yield* sys_mprotect(mm, addr + 4, 4, PROT_READ), 0);
      assert.ok(!pmd_trans_huge(mm.pgd[pmd_index(addr)]), 'vma_adjust_trans_huge split it');
      assert.equal(mm.mmap.length, 3);
      const ro = pteAt(mm, addr + 5)!;
      assert.ok(ro.kind === 'present' && !ro.write);
      const rw = pteAt(mm, addr + 9)!;
      assert.ok(rw.kind === 'present' && rw.write);
      assert.equal(yield* store(mm, addr + 5, 1), -14);
    });
  });

  it('mremap moves a THP to a free area congruent to it modulo the PMD (vrm_set_new_addr\'s pgoff): the huge PMD moves whole (move_huge_pmd), growing or keeping its size', () => {
    for (const [new_len, flags] of [
      [2 * HPAGE_PMD_NR, MREMAP_MAYMOVE],
      [HPAGE_PMD_NR, MREMAP_MAYMOVE | MREMAP_DONTUNMAP],
    ] as const) {
      runThp(function* () {
        // A page mapped first, at the top; the THP below it, with less than a PMD between: it cannot grow in place.
        const mm = mm_alloc('P0');
        const above = yield* vm_mmap(mm, 1, RW);
        const addr = yield* vm_mmap(mm, HPAGE_PMD_NR, RW);
        assert.ok(addr % HPAGE_PMD_NR === 0 && above > addr && above - (addr + HPAGE_PMD_NR) < HPAGE_PMD_NR, `harness: layout ${addr} ${above}`);
        assert.equal(yield* do_madvise(mm, addr, HPAGE_PMD_NR, 'HUGEPAGE'), 0);
        assert.equal(yield* store(mm, addr, 1), 0);
        const folio = pfn_folio((mm.pgd[pmd_index(addr)] as PmdHuge).pfn);
        const to = yield* sys_mremap(mm, addr, HPAGE_PMD_NR, new_len, flags);
        assert.ok(to > 0 && to !== addr, `moved: ${to}`);
        assert.equal(to % HPAGE_PMD_NR, 0, 'PMD-aligned, as the old address was');
        const pmd = mm.pgd[pmd_index(to)];
        assert.ok(pmd_trans_huge(pmd) && pmd.pfn === folio.pfn, 'the same THP, still PMD-mapped');
        assert.deepEqual(counts(folio), [1, 1, 1]);
        assert.equal(yield* load(mm, to, 0), 1);
        if (flags & MREMAP_DONTUNMAP) assert.equal(yield* load(mm, addr, 0), 0, 'the old range stays mapped, empty');
        else assert.equal(mm.pgd[pmd_index(addr)], undefined, 'nothing left at the old address');
      });
    }
  });
});
