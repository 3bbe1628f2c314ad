import assert from 'node:assert/strict';
import { Kernel, Replay, type KGen } from '../../../engine/index.ts';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { FOLL_LONGTERM, FOLL_PIN, gup_must_unshare, pin_user_pages, pin_user_pages_fast, unpin_user_page } from '../../../engine/mm/gup.ts';
import { ZERO_PFN, mk_pte, type Folio, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { lru_pick, pfn_folio } from '../../../engine/mm/page_alloc.ts';
import { folioAt, load, mapped, pteAt, store } from '../harness.ts';

/** One task on a machine that has the shared zero page; assertions inside fail the test. */
function runZero(body: () => KGen<unknown>, frames = 16): Kernel {
  const k = new Kernel({ strategy: new Replay([]), maxSteps: 5000, machine: { nr_frames: frames, zero_page: true } });
  k.spawn('T0', body);
  const r = k.run();
  assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
  return k;
}

const zeroPte = mk_pte(ZERO_PFN, false, false);

describe('engine/mm/memory: the shared zero page (memory.ts, gup.ts)', () => {
  it('a read fault maps the zero page read-only, without a frame or an anon_vma; a write then gets a fresh zeroed page', () => {
    const k = runZero(function* () {
      const m = machine();
      const { mm, addr } = yield* mapped(2);
      const free = m.mem.nr_free();
      assert.equal(yield* load(mm, addr), 0);
      assert.deepEqual(pteAt(mm, addr), zeroPte);
      assert.equal(m.mem.nr_free(), free, 'no frame for the zero page');
      assert.equal(mm.mmap[0]!.anon_vma, undefined, 'no anon_vma until a real anon page');
      const zero = m.zero_folio!;
      const ref = zero._refcount;
      // wp_page_copy from the zero page: nothing copied, the new page exclusive and writable.
      assert.equal(yield* store(mm, addr, 7, 1), 0);
      const f = folioAt(mm, addr);
      assert.notEqual(f.pfn, ZERO_PFN);
      assert.deepEqual(f.data, [0, 7]);
      assert.deepEqual([f._mapcount, f._refcount, PageAnonExclusive(f)], [1, 1, true]);
      assert.deepEqual(pteAt(mm, addr), mk_pte(f.pfn, true, true));
      assert.equal(zero._refcount, ref, 'the zero page is not refcounted by its mappings');
      assert.deepEqual(zero.data, [0, 0]);
    });
    assert.ok(k.machine.zero_folio);
  });

  it('without the zero page (mm_forbids_zeropage) a read fault allocates a page, as before', () => {
    const k = new Kernel({ strategy: new Replay([]), maxSteps: 5000, machine: { nr_frames: 16 } });
    k.spawn('T0', function* () {
      const { mm, addr } = yield* mapped(1);
      assert.equal(yield* load(mm, addr), 0);
      assert.notEqual(folioAt(mm, addr).pfn, ZERO_PFN);
    });
    assert.equal(k.run().violation, undefined);
    assert.equal(k.machine.zero_folio, undefined);
  });

  it('fork copies a zero-page PTE without touching its counts; zap and exit leave it alone; reclaim never sees it', () => {
    const k = runZero(function* () {
      const m = machine();
      const { mm, addr } = yield* mapped(2);
      yield* load(mm, addr);
      const zero = m.zero_folio!;
      const before = [zero._refcount, zero._mapcount];
      // vma_needs_copy(): without an anon_vma, nothing is copied; the child faults the zero page in itself.
      const bare = (yield* dup_mm(mm, 'P2')) as MmStruct;
      assert.equal(pteAt(bare, addr), undefined);
      yield* mmput(bare);
      yield* store(mm, addr + 1, 1);
      const child = yield* dup_mm(mm, 'P1');
      assert.equal(typeof child, 'object');
      const c = child as Exclude<typeof child, number>;
      assert.deepEqual(pteAt(c, addr), zeroPte);
      assert.deepEqual([zero._refcount, zero._mapcount], before);
      assert.ok(lru_pick(0, (f) => f.pfn === ZERO_PFN) === undefined, 'the zero page is on no LRU');
      // A child's write COWs its own copy; the parent keeps the zero page.
      yield* store(c, addr, 3);
      assert.equal(yield* load(mm, addr), 0);
      assert.equal(yield* load(c, addr), 3);
      assert.equal(yield* do_madvise(mm, addr, 2, 'DONTNEED'), 0);
      assert.equal(pteAt(mm, addr)?.kind, 'none');
      yield* mmput(c);
      yield* mmput(mm);
      assert.deepEqual([zero._refcount, zero._mapcount], before);
      assert.equal(m.mem.nr_free(), 16, 'nothing leaked');
    });
    assert.equal(k.machine.mem.nr_free(), 16);
  });

  it('a short-term R/O pin holds the zero page without a reference; GUP-fast leaves it to the slow path', () => {
    for (const fast of [false, true]) {
      runZero(function* () {
        const { mm, addr } = yield* mapped(1);
        yield* load(mm, addr);
        const zero = pteAt(mm, addr);
        const r = fast ? yield* pin_user_pages_fast(mm, addr, 0) : yield* pin_user_pages(mm, addr, 0);
        const f = r as Folio;
        assert.equal(f.pfn, ZERO_PFN, 'the pin holds the zero page');
        assert.equal(pteAt(mm, addr), zero, 'nothing was unshared');
        assert.deepEqual([f._pincount, f._refcount], [0, 1], 'no pin counted on the zero page');
        unpin_user_page(f);
        assert.deepEqual([f._pincount, f._refcount], [0, 1]);
      });
    }
  });

  it('a R/O long-term pin in a private mapping unshares the zero page: the pinned page is a fresh exclusive page, mapped R/O', () => {
    for (const fast of [false, true]) {
      runZero(function* () {
        const { mm, addr } = yield* mapped(1);
        yield* load(mm, addr);
        const vma = mm.mmap[0]!;
        const zero = pfn_folio(ZERO_PFN);
        assert.equal(gup_must_unshare(vma, FOLL_PIN | FOLL_LONGTERM, zero), true);
        assert.equal(gup_must_unshare(vma, FOLL_PIN, zero), false, 'short-term: no');
        const f = (fast ? yield* pin_user_pages_fast(mm, addr, FOLL_LONGTERM) : yield* pin_user_pages(mm, addr, FOLL_LONGTERM)) as Folio;
        assert.notEqual(f.pfn, ZERO_PFN);
        assert.equal(folioAt(mm, addr), f);
        assert.deepEqual(pteAt(mm, addr), mk_pte(f.pfn, false, false), 'an unshare keeps the PTE read-only');
        assert.deepEqual([f._pincount, f._refcount, PageAnonExclusive(f)], [1, 2, true]);
        // The next write reuses the pinned page: the pin sees it.
        yield* store(mm, addr, 9);
        assert.equal(folioAt(mm, addr), f);
        assert.equal(f.data[0], 9);
        unpin_user_page(f);
      });
    }
  });

  it('the PAGEOUT walk skips zero-page PTEs', () => {
    runZero(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* load(mm, addr);
      assert.equal(yield* do_madvise(mm, addr, 1, 'PAGEOUT'), 0);
      assert.deepEqual(pteAt(mm, addr), zeroPte);
    });
  });
});

