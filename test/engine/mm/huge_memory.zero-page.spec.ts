import assert from 'node:assert/strict';
import type { KGen } from '../../../engine/index.ts';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { FOLL_LONGTERM, get_user_pages, get_user_pages_fast, pin_user_pages, pin_user_pages_fast, unpin_user_page } from '../../../engine/mm/gup.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { HPAGE_PMD_NR, HUGE_ZERO_PFN, ZERO_PFN, is_huge_zero_pmd, mk_huge_pmd, mk_pte, page_folio, pmd_trans_huge, type Folio, type MmStruct, type Page } from '../../../engine/mm/mm_types.ts';
import { PROT_READ, PROT_WRITE, vm_munmap } from '../../../engine/mm/mmap.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { MREMAP_FIXED, MREMAP_MAYMOVE, sys_mremap } from '../../../engine/mm/mremap.ts';
import { folio_put, is_huge_zero_folio, pfn_folio } from '../../../engine/mm/page_alloc.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { load, mapped, pteAt, store } from '../harness.ts';
import { runThpTask } from './thp.setup.ts';

const FRAMES = 48;
const zeroPmd = mk_huge_pmd(HUGE_ZERO_PFN, false, false);

/** On a machine with the zero page (use_zero_page=1). */
const runHzp = (body: () => KGen<unknown>, frames = FRAMES): void => void runThpTask(body, { nr_frames: frames, zero_page: true });

/** A THP-sized, THP-aligned MADV_HUGEPAGE mapping, read at `at`: its PMD maps the huge zero folio. */
function* hzp(at = 0): KGen<{ mm: MmStruct; addr: number; zero: Folio }> {
  const { mm, addr } = yield* mapped(HPAGE_PMD_NR);
  assert.equal(addr % HPAGE_PMD_NR, 0);
  assert.equal(yield* do_madvise(mm, addr, HPAGE_PMD_NR, 'HUGEPAGE'), 0);
  const free = machine().mem.nr_free();
  assert.equal(yield* load(mm, addr + at), 0);
  assert.deepEqual(mm.pgd[pmd_index(addr)], zeroPmd, 'the read fault mapped the huge zero folio, R/O');
  assert.equal(machine().mem.nr_free(), free, 'no frame for it');
  return { mm, addr, zero: machine().huge_zero_folio! };
}

const counts = (f: Folio): number[] => [f._refcount, f._mapcount, f._entire_mapcount, f._pincount];
const pmdAt = (mm: MmStruct, addr: number) => mm.pgd[pmd_index(addr)];

describe('engine/mm/huge_memory: the huge zero folio (use_zero_page=1)', () => {
  it('a read fault maps the huge zero PMD with a deposit and an anon_vma; every page reads zero; no mapcount or reference', () => {
    runHzp(function* () {
      const { mm, addr, zero } = yield* hzp(5);
      assert.equal(zero.pfn, HUGE_ZERO_PFN);
      assert.ok(is_huge_zero_folio(zero) && zero.order === 4);
      assert.equal(mm.pmd_huge_pte.length, 1, 'a table deposited for the split');
      assert.ok(mm.mmap[0]!.anon_vma, 'vmf_anon_prepare() ran before the zero-page branch');
      for (let i = 0; i < HPAGE_PMD_NR; i++) assert.equal(yield* load(mm, addr + i, 1), 0);
      assert.deepEqual(counts(zero), [1, 0, 0, 0]);
      assert.equal(pfn_folio(HUGE_ZERO_PFN + 7), zero);
    });
  });

  it('without the zero page (mm_forbids_zeropage) or with use_zero_page=0 a read fault allocates a THP, as before', () => {
    for (const machineOpts of [{ nr_frames: FRAMES }, { nr_frames: FRAMES, zero_page: true, thp_use_zero_page: false }]) {
      const k = runThpTask(function* () {
        const { mm, addr } = yield* mapped(HPAGE_PMD_NR);
        yield* do_madvise(mm, addr, HPAGE_PMD_NR, 'HUGEPAGE');
        assert.equal(yield* load(mm, addr), 0);
        const pmd = pmdAt(mm, addr);
        assert.ok(pmd_trans_huge(pmd) && !is_huge_zero_pmd(pmd) && pfn_folio(pmd.pfn).order === 4);
      }, machineOpts);
      assert.equal(k.machine.huge_zero_folio, undefined);
    }
  });

  it('a write fault replaces it by a fresh exclusive THP mapped whole (do_huge_zero_wp_pmd, 6.13+); the deposit stays; the zero folio is untouched', () => {
    runHzp(function* () {
      const { mm, addr, zero } = yield* hzp();
      assert.equal(yield* store(mm, addr + 2, 1), 0);
      const pmd = pmdAt(mm, addr);
      assert.ok(pmd_trans_huge(pmd) && !is_huge_zero_pmd(pmd), 'a THP, not a split');
      const thp = pfn_folio(pmd.pfn);
      assert.deepEqual(pmd, mk_huge_pmd(thp.pfn, true, true));
      assert.deepEqual([thp._refcount, thp._mapcount, thp._entire_mapcount], [1, 1, 1]);
      assert.ok(PageAnonExclusive(thp.pages![0]!));
      assert.equal(mm.pmd_huge_pte.length, 1);
      assert.equal(yield* load(mm, addr + 2), 1);
      assert.equal(yield* load(mm, addr + 3), 0);
      assert.deepEqual(counts(zero), [1, 0, 0, 0]);
      assert.ok(zero.pages!.every((p) => p.data.every((v) => v === 0)));
      assert.equal(yield* vm_munmap(mm, addr, HPAGE_PMD_NR), 0);
      assert.equal(machine().mem.nr_free(), FRAMES, 'the THP went with the munmap');
    });
  });

  it('with no THP to be had the write falls back: the PMD splits into zero-page PTEs and the PTE path COWs the one page', () => {
    // 24 frames, 12 of them taken in a way that leaves no aligned free block of 16.
    runHzp(function* () {
      const { mm, addr } = yield* mapped(HPAGE_PMD_NR);
      yield* do_madvise(mm, addr, HPAGE_PMD_NR, 'HUGEPAGE');
      const hog = yield* mapped(12);
      for (let i = 0; i < 12; i++) yield* store(hog.mm, hog.addr + i, 1);
      assert.equal(yield* load(mm, addr), 0);
      // The read mapped the zero PMD (no frame needed), though no THP could be allocated.
      assert.deepEqual(pmdAt(mm, addr), zeroPmd);
      assert.equal(yield* store(mm, addr + 4, 9), 0);
      assert.ok(!pmd_trans_huge(pmdAt(mm, addr)), '__split_huge_zero_page_pmd');
      assert.equal(mm.pmd_huge_pte.length, 0, 'the deposit became the PTE table');
      const pte = pteAt(mm, addr + 4)!;
      assert.ok(pte.kind === 'present' && pte.write && pte.pfn !== ZERO_PFN && pfn_folio(pte.pfn).order === 0);
      for (const i of [0, 3, 5, 15]) assert.deepEqual(pteAt(mm, addr + i), mk_pte(ZERO_PFN, false, false), `page ${i}`);
      assert.equal(yield* load(mm, addr + 4), 9);
    }, 24);
  });

  it('fork copies the zero PMD as it is, with the child\'s own deposit; each side\'s write gets its own THP', () => {
    runHzp(function* () {
      const { mm, addr, zero } = yield* hzp();
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      assert.deepEqual(pmdAt(child, addr), zeroPmd);
      assert.deepEqual(pmdAt(mm, addr), zeroPmd);
      assert.equal(child.pmd_huge_pte.length, 1);
      assert.deepEqual(counts(zero), [1, 0, 0, 0]);
      yield* store(child, addr, 7);
      assert.ok(!is_huge_zero_pmd(pmdAt(child, addr)) && pmd_trans_huge(pmdAt(child, addr)));
      assert.deepEqual(pmdAt(mm, addr), zeroPmd, 'the parent keeps the zero PMD');
      assert.equal(yield* load(mm, addr), 0);
      assert.equal(yield* load(child, addr), 7);
      yield* mmput(child);
      yield* mmput(mm);
      assert.equal(machine().mem.nr_free(), FRAMES, 'nothing leaked');
    });
  });

  it('zap: munmap frees only the deposit; MADV_DONTNEED of a part splits it into zero PTEs and zaps that part', () => {
    runHzp(function* () {
      const { mm, addr, zero } = yield* hzp();
      assert.equal(yield* do_madvise(mm, addr + 2, 3, 'DONTNEED'), 0);
      assert.ok(!pmd_trans_huge(pmdAt(mm, addr)));
      assert.equal(pteAt(mm, addr + 3)?.kind, 'none');
      assert.deepEqual(pteAt(mm, addr + 6), mk_pte(ZERO_PFN, false, false));
      assert.equal(yield* load(mm, addr + 3), 0);
      const b = yield* hzp();
      assert.equal(yield* do_madvise(b.mm, b.addr, HPAGE_PMD_NR, 'DONTNEED'), 0);
      assert.equal(pmdAt(b.mm, b.addr), undefined);
      assert.equal(b.mm.pmd_huge_pte.length, 0);
      const c = yield* hzp();
      assert.equal(yield* vm_munmap(c.mm, c.addr, HPAGE_PMD_NR), 0);
      assert.equal(c.mm.pmd_huge_pte.length, 0, 'zap_huge_pmd: the deposit went');
      assert.deepEqual(counts(zero), [1, 0, 0, 0]);
      // PAGEOUT, COLD and FREE leave it alone.
      const d = yield* hzp();
      for (const advice of ['PAGEOUT', 'COLD', 'FREE'] as const) assert.equal(yield* do_madvise(d.mm, d.addr, HPAGE_PMD_NR, advice), 0);
      assert.deepEqual(pmdAt(d.mm, d.addr), zeroPmd);
    });
  });

  it('mprotect keeps the zero PMD read-only (can_change_pmd_writable refuses it); a write after it still COWs', () => {
    runHzp(function* () {
      const { mm, addr } = yield* hzp();
      assert.equal(yield* sys_mprotect(mm, addr, HPAGE_PMD_NR, PROT_READ), 0);
      assert.deepEqual(pmdAt(mm, addr), zeroPmd);
      assert.equal(yield* sys_mprotect(mm, addr, HPAGE_PMD_NR, PROT_READ | PROT_WRITE), 0);
      assert.deepEqual(pmdAt(mm, addr), zeroPmd, 'not writable: not an exclusive anon THP');
      assert.equal(yield* sys_mprotect(mm, addr, HPAGE_PMD_NR, 0), 0);
      assert.deepEqual(pmdAt(mm, addr), mk_huge_pmd(HUGE_ZERO_PFN, false, false, true), 'PROT_NONE');
      assert.equal(yield* sys_mprotect(mm, addr, HPAGE_PMD_NR, PROT_READ | PROT_WRITE), 0);
      assert.equal(yield* store(mm, addr + 1, 3), 0);
      assert.ok(!is_huge_zero_pmd(pmdAt(mm, addr)));
      assert.equal(yield* load(mm, addr + 1), 3);
    });
  });

  it('mremap moves the zero PMD whole to another PMD slot', () => {
    runHzp(function* () {
      const { mm, addr } = yield* hzp();
      const to = 64;
      assert.equal(yield* sys_mremap(mm, addr, HPAGE_PMD_NR, HPAGE_PMD_NR, MREMAP_FIXED | MREMAP_MAYMOVE, to), to);
      assert.deepEqual(pmdAt(mm, to), zeroPmd);
      assert.equal(pmdAt(mm, addr), undefined);
      assert.equal(mm.pmd_huge_pte.length, 1);
      assert.equal(yield* load(mm, to + 3), 0);
      assert.equal(yield* store(mm, to + 3, 8), 0);
      assert.equal(yield* load(mm, to + 3), 8);
    });
  });

  it('a R/O long-term pin unshares it (slow path and GUP-fast): the pin holds a subpage of a fresh exclusive THP mapped at the address', () => {
    for (const fast of [false, true]) {
      runHzp(function* () {
        const { mm, addr, zero } = yield* hzp();
        const p = (fast ? yield* pin_user_pages_fast(mm, addr + 6, FOLL_LONGTERM) : yield* pin_user_pages(mm, addr + 6, FOLL_LONGTERM)) as Page;
        const thp = page_folio(p);
        assert.ok(!is_huge_zero_folio(thp), 'not the zero folio');
        const pmd = pmdAt(mm, addr);
        assert.ok(pmd_trans_huge(pmd) && pmd.pfn === thp.pfn);
        assert.equal(p, thp.pages![6]);
        assert.ok(PageAnonExclusive(thp.pages![0]!));
        assert.deepEqual([thp._refcount, thp._pincount], [2, 1]);
        assert.deepEqual(counts(zero), [1, 0, 0, 0]);
        // The process's next write lands in the pinned page.
        yield* store(mm, addr + 6, 5);
        assert.equal(p.data[0], 5);
        unpin_user_page(p);
      });
    }
  });

  it('a short-term R/O pin holds the huge zero folio (a reference and _pincount, as 6.12 counts a large folio); unpin drops them', () => {
    for (const fast of [false, true]) {
      runHzp(function* () {
        const { mm, addr, zero } = yield* hzp();
        const p = (fast ? yield* pin_user_pages_fast(mm, addr + 3, 0) : yield* pin_user_pages(mm, addr + 3, 0)) as Page;
        assert.equal(p, zero.pages![3]);
        assert.deepEqual(pmdAt(mm, addr), zeroPmd, 'nothing unshared');
        assert.deepEqual(counts(zero), [2, 0, 0, 1]);
        unpin_user_page(p);
        assert.deepEqual(counts(zero), [1, 0, 0, 0]);
      });
    }
  });

  it('a FOLL_GET reference (get_user_pages[_fast]) of it stays on the zero folio when a write then maps a THP (kernel diff seed 9441)', () => {
    for (const fast of [false, true]) {
      runHzp(function* () {
        const { mm, addr } = yield* mapped(HPAGE_PMD_NR);
        yield* do_madvise(mm, addr, HPAGE_PMD_NR, 'HUGEPAGE');
        // The GUP's own read fault maps the zero PMD.
        const p = (fast ? yield* get_user_pages_fast(mm, addr + 2, 0) : yield* get_user_pages(mm, addr + 2, 0)) as Page;
        const zero = machine().huge_zero_folio!;
        assert.equal(p, zero.pages![2]);
        assert.equal(zero._refcount, 2);
        assert.equal(yield* store(mm, addr + 2, 1), 0);
        assert.equal(yield* load(mm, addr + 2), 1);
        assert.equal(p.data[0], 0, 'the reference reads the zero page, not the write');
        folio_put(page_folio(p));
        assert.equal(zero._refcount, 1);
      });
    }
  });
});
