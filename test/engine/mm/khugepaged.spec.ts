import assert from 'node:assert/strict';
import { Replay, type Strategy } from '../../../engine/index.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { pmd_trans_huge } from '../../../engine/mm/mm_types.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { pfn_folio } from '../../../engine/mm/page_alloc.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { properties } from '../../../properties/index.ts';
import { runCase } from '../../../runner/index.ts';
import { describeViolation, reads } from '../../helpers/run.ts';
import { hugepage, mmap16, park, r, w } from './thp.setup.ts';

const pinFast = (page: number): Op => ({ op: 'pin', region: 0, page, pin: 0, write: true, longterm: true, fast: true });
const pinWrite = (value: number): Op => ({ op: 'pinWrite', pin: 0, word: 0, value });

/** The THP that maps P0's r0 after the last op of any thread (read through a hook after each op), if one does. */
function thpAfter(p: Program, strategy: Strategy = new Replay([])) {
  let huge: { order: number; exclusive: boolean } | undefined;
  const res = runCase(p, strategy, { properties }, (h) => ({
    ...h,
    afterOp(ctx, rec) {
      h.afterOp?.(ctx, rec);
      const space = ctx.spaces[0];
      const region = space?.regions.get(0);
      if (!space || !region || space.mm.kasan.freed) return;
      const pmd = space.mm.pgd[pmd_index(region.start)];
      huge = pmd_trans_huge(pmd) ? { order: pfn_folio(pmd.pfn).order, exclusive: PageAnonExclusive(pfn_folio(pmd.pfn).pages![0]!) } : undefined;
    },
  }));
  return { res, huge };
}

describe('engine/mm/khugepaged: collapse_huge_page (khugepaged.ts)', () => {
  it('khugepaged collapses a MADV_HUGEPAGE range of small pages into an exclusive, PMD-mapped THP that holds their data', () => {
    const p: Program = { frames: 48, khugepaged: true, processes: [{ threads: [[mmap16, w(0, 1), w(3, 2), hugepage, r(15), r(0), r(3), r(5), w(7, 3), r(7)]] }] };
    // khugepaged runs to its end (two full scans) once P0.T0 stands at its first read.
    const { res, huge } = thpAfter(p, park('P0.T0', 'user load', 'khugepaged', 'never').strategy);
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.deepEqual(huge, { order: 4, exclusive: true }, 'khugepaged made the range a THP');
    assert.deepEqual(reads(res, 'P0.T0'), [0, 1, 2, 0, 3]);
  });

  it('a THP whose PMD was split (mprotect of half of it, and back) is collapsed again from its PTEs (compound_pagelist)', () => {
    const prot = (page: number, pages: number, p: 'r' | 'rw'): Op => ({ op: 'mprotect', region: 0, page, pages, prot: p });
    const p: Program = { frames: 48, khugepaged: true, processes: [{ threads: [[mmap16, hugepage, w(0, 1), w(9, 2), prot(0, 8, 'r'), prot(0, 8, 'rw'), r(15), r(0), r(9), w(1, 3), r(1)]] }] };
    const { strategy, park: parked } = park('P0.T0', 'user load', 'khugepaged', 'never');
    const { res, huge } = thpAfter(p, strategy);
    assert.ok(parked.parked, 'khugepaged ran once the PMD was split');
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.deepEqual(huge, { order: 4, exclusive: true });
    assert.deepEqual(reads(res, 'P0.T0'), [0, 1, 2, 3]);
  });

  it('a pinned page refuses the collapse (is_refcount_suitable): the range stays small pages and the pin sees the process\'s writes', () => {
    const p: Program = { frames: 48, khugepaged: true, processes: [{ threads: [[mmap16, w(0, 1), w(3, 2), pinFast(3), hugepage, r(15), pinWrite(9), r(3), w(3, 4), r(3)]] }] };
    const { strategy, park: parked } = park('P0.T0', 'user load', 'khugepaged', 'never');
    const { res, huge } = thpAfter(p, strategy);
    assert.ok(parked.parked, 'khugepaged scanned the range');
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(huge, undefined, 'never collapsed');
    assert.deepEqual(reads(res, 'P0.T0'), [0, 9, 4]);
  });

  it('GUP-fast that read the PTE before pmdp_collapse_flush and grabs the page after the isolation backs off on the PMD recheck (70cbc3cc78a9) and pins the new THP', () => {
    // P0.T1 pins page 3 with GUP-fast; parked after its lockless walk, khugepaged runs up to its copy.
    const p: Program = {
      frames: 48,
      khugepaged: true,
      processes: [{ threads: [[mmap16, w(0, 1), w(3, 2), hugepage], [r(3), pinFast(3), pinWrite(9), r(3)]] }],
    };
    const { strategy, park: parked } = park('P0.T1', 'gup_fast: try_grab_folio_fast', 'khugepaged', '__collapse_huge_page_copy: copied');
    const { res, huge } = thpAfter(p, strategy);
    assert.ok(parked.parked && parked.reached, 'GUP-fast was parked in the window while khugepaged isolated and copied the pages');
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.deepEqual(huge, { order: 4, exclusive: true });
    const pin = res.history.records.find((x) => x.op.op === 'pin')!;
    assert.equal(pin.result, 0);
    assert.deepEqual(reads(res, 'P0.T1'), [2, 9], 'the pin is of the page mapped now: the device write shows');
  });
});
