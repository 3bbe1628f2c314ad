import assert from 'node:assert/strict';
import { Replay, type Strategy } from '../../../engine/index.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { ZERO_PFN, pmd_table, pmd_trans_huge } from '../../../engine/mm/mm_types.ts';
import { pfn_folio } from '../../../engine/mm/page_alloc.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import type { RunContext } from '../../../engine/program/executor.ts';
import { properties } from '../../../properties/index.ts';
import { runCase } from '../../../runner/index.ts';
import { describeViolation, reads } from '../../helpers/run.ts';
import { hugepage, mmap16, park, r, w } from './thp.setup.ts';

const swapon: Op = { op: 'swapon', dev: 0, slots: 4 };
const pin = (page: number, fast = false): Op => ({ op: 'pin', region: 0, page, pin: 0, write: true, longterm: true, fast });

/** What maps P0's r0 after each op of `thread`: 'thp' (a huge PMD), 'large' (PTEs of a THP), 'small', or none. */
function shapes(p: Program, strategy: Strategy = new Replay([]), thread = 'P0.T0') {
  const seen: string[] = [];
  let exclusive: boolean[] = [];
  const look = (ctx: RunContext): void => {
    const space = ctx.spaces[0]!;
    const pmd = space.mm.pgd[pmd_index(space.regions.get(0)!.start)];
    if (pmd_trans_huge(pmd)) return void seen.push('thp');
    const pte = pmd_table(pmd)?.ptes[0];
    if (pte?.kind !== 'present') return void seen.push(pte?.kind ?? 'none');
    const folio = pfn_folio(pte.pfn);
    seen.push(folio.order ? 'large' : 'small');
    exclusive = pmd_table(pmd)!.ptes.map((e) => e.kind === 'present' && PageAnonExclusive(folio.order ? folio.pages![e.pfn - folio.pfn]! : pfn_folio(e.pfn)));
  };
  const res = runCase(p, strategy, { properties }, (h) => ({
    ...h,
    afterOp(ctx, rec) {
      h.afterOp?.(ctx, rec);
      if (rec.thread === thread && ctx.spaces[0]?.regions.get(0)) look(ctx);
    },
  }));
  return { res, seen, exclusive };
}

const THP: Op[] = [mmap16, hugepage, w(0, 1), w(3, 2)];

describe('engine/mm/huge_memory: split_huge_page with the refcount freeze (huge_memory.ts)', () => {
  it('kswapd splits a PMD-mapped THP before it swaps it (split_folio): the head page goes to swap, the rest are small exclusive pages with their data', () => {
    const { res, seen, exclusive } = shapes({ frames: 48, processes: [{ threads: [[swapon, ...THP, { op: 'reclaim', victim: 0 }, r(3), r(0)]] }] });
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.deepEqual(seen.slice(-3), ['swap', 'swap', 'small'], 'page 0 swapped out, then faulted back as a small page');
    assert.equal(exclusive[3], true);
    assert.deepEqual(reads(res, 'P0.T0'), [2, 1]);
  });

  it('kcompactd splits a THP it cannot move whole (no free THP to move it to: 24 frames) and migrates the head page; MADV_COLD of part of a THP splits it', () => {
    const a = shapes({ frames: 24, processes: [{ threads: [[...THP, { op: 'migrate', victim: 0 }, r(3), r(0)]] }] });
    assert.equal(a.res.violation, undefined, describeViolation(a.res));
    assert.deepEqual(a.seen.slice(-3), ['small', 'small', 'small']);
    assert.deepEqual(reads(a.res, 'P0.T0'), [2, 1]);
    const b = shapes({ frames: 48, processes: [{ threads: [[...THP, { op: 'madvise', region: 0, page: 2, pages: 3, advice: 'COLD' }, r(3)]] }] });
    assert.equal(b.res.violation, undefined, describeViolation(b.res));
    assert.deepEqual(b.seen.slice(-2), ['small', 'small']);
    assert.deepEqual(b.exclusive.filter(Boolean).length, 16, 'every subpage keeps PG_anon_exclusive through its migration entry');
  });

  it('a pinned THP is not split (can_split_folio): reclaim and kcompactd leave it whole', () => {
    const { res, seen } = shapes({ frames: 48, processes: [{ threads: [[swapon, ...THP, pin(2), { op: 'reclaim', victim: 0 }, { op: 'migrate', victim: 0 }, r(0)]] }] });
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.deepEqual(seen.slice(-3), ['thp', 'thp', 'thp']);
    assert.deepEqual(
      res.history.records.filter((x) => x.op.op === 'reclaim' || x.op.op === 'migrate').map((x) => x.result),
      [0, 0],
    );
  });

  it('a GUP-fast pin taken after can_split_folio() makes the freeze fail: the PMD was split, remap_page() puts the large folio\'s PTEs back, exclusive', () => {
    // Once P0.T0 made the THP, kcompactd (K0) runs up to its PMD split, past the racy
    // can_split_folio() check, and stays there while P0.T1's GUP-fast pins a subpage.
    // Then kcompactd finishes before the device writes through the pin.
    const pinWrite: Op = { op: 'pinWrite', pin: 0, word: 0, value: 9 };
    // 24 frames: no second THP for kcompactd to move this one to, so it splits it (-ENOMEM).
    const p: Program = { frames: 24, processes: [{ threads: [[...THP], [r(5), pin(2, true), pinWrite, r(2)]] }], kthreads: [[{ op: 'migrate', victim: 0 }]] };
    const { strategy, park: parked } = park('P0.T1', 'user load', 'K0', 'split_huge_pmd_address: mm_find_pmd', 'device DMA write');
    const { res, seen, exclusive } = shapes(p, strategy, 'K0');
    assert.ok(parked.parked && parked.reached, 'kcompactd stood past can_split_folio() while P0.T1 pinned');
    const migrate = res.history.records.find((x) => x.op.op === 'migrate')!;
    const pinned = res.history.records.find((x) => x.op.op === 'pin')!;
    assert.ok(pinned.end < migrate.end, 'the pin came while kcompactd was in the split');
    assert.deepEqual(reads(res, 'P0.T1'), [0, 9], 'the pin still sees the page the process maps');
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(res.history.records.find((x) => x.op.op === 'migrate')!.result, 0, 'the split failed (-EAGAIN): nothing migrated');
    assert.equal(res.history.records.find((x) => x.op.op === 'pin')!.result, 0);
    assert.equal(seen.at(-1), 'large', 'PTEs of the THP, which stayed one folio');
    assert.equal(exclusive.filter(Boolean).length, 16);
  });
});

describe('engine/mm/huge_memory: a split maps zero-filled subpages to the shared zero page (RMP_USE_SHARED_ZEROPAGE, migrate.ts)', () => {
  /** Each PTE of P0's r0 after every op: 'z' the zero page, 'p' a page, '-' none; and the free frames. */
  function pages(p: Program): { res: ReturnType<typeof runCase>; after: string[]; free: number[] } {
    const after: string[] = [];
    const free: number[] = [];
    const res = runCase(p, new Replay([]), { properties }, (h) => ({
      ...h,
      afterOp(ctx, rec) {
        h.afterOp?.(ctx, rec);
        const space = ctx.spaces[0]!;
        const region = space.regions.get(0);
        if (!region) return;
        const pmd = space.mm.pgd[pmd_index(region.start)];
        const t = pmd_table(pmd);
        after.push(pmd_trans_huge(pmd) ? 'thp' : t ? t.ptes.map((e) => (e.kind !== 'present' ? '-' : e.pfn === ZERO_PFN ? 'z' : 'p')).join('') : 'none');
        free.push(ctx.machine.mem.nr_free());
      },
    }));
    return { res, after, free };
  }
  // Page 0 and 3 written; page 5 written with 0, which is as zero-filled as never written.
  const ops: Op[] = [...THP, w(5, 0), { op: 'madvise', region: 0, page: 2, pages: 3, advice: 'COLD' }, r(3), r(5), w(7, 4), r(7), r(8)];

  it('MADV_COLD of part of a THP splits it: pages that hold only zeroes are mapped to the zero page and freed, the others keep their data and their page', () => {
    const { res, after, free } = pages({ frames: 48, zeroPage: true, processes: [{ threads: [ops] }] });
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(after[4], 'thp');
    assert.equal(after[5], 'pzzpzzzzzzzzzzzz', 'after the COLD: pages 0 and 3 keep their page, 5 (written 0) and the untouched ones are the zero page');
    assert.equal(free[5]! - free[4]!, 14, 'the 14 zero-filled subpages went back to the allocator');
    assert.deepEqual(reads(res, 'P0.T0'), [2, 0, 4, 0]);
    assert.equal(after.at(-1), 'pzzpzzzpzzzzzzzz', 'a write to a zero-page subpage copies it away (wp_page_copy from the zero page)');
  });

  it('without the zero page (mm_forbids_zeropage) every subpage keeps its page', () => {
    const { res, after } = pages({ frames: 48, processes: [{ threads: [ops] }] });
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(after[5], 'pppppppppppppppp');
    assert.deepEqual(reads(res, 'P0.T0'), [2, 0, 4, 0]);
  });

  it('a split that failed to freeze (remap_page of the large folio itself) maps nothing to the zero page', () => {
    // The GUP-fast race of the spec above, on a machine with the zero page.
    const pinWrite: Op = { op: 'pinWrite', pin: 0, word: 0, value: 9 };
    const p: Program = { frames: 24, zeroPage: true, processes: [{ threads: [[...THP], [r(5), pin(2, true), pinWrite, r(2)]] }], kthreads: [[{ op: 'migrate', victim: 0 }]] };
    const { strategy, park: parked } = park('P0.T1', 'user load', 'K0', 'split_huge_pmd_address: mm_find_pmd', 'device DMA write');
    const { res, seen, exclusive } = shapes(p, strategy, 'K0');
    assert.ok(parked.parked && parked.reached);
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(res.history.records.find((x) => x.op.op === 'migrate')!.result, 0);
    assert.equal(seen.at(-1), 'large');
    assert.equal(exclusive.filter(Boolean).length, 16, 'every PTE maps the THP again, none the zero page');
  });
});
