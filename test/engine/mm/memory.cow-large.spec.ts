import assert from 'node:assert/strict';
import { Replay } from '../../../engine/index.ts';
import { pmd_table, pmd_trans_huge, type PtePresent } from '../../../engine/mm/mm_types.ts';
import { pfn_folio } from '../../../engine/mm/page_alloc.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { folio_mm_id, folio_test_large_maybe_mapped_shared } from '../../../engine/mm/rmap_mm_id.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import type { RunContext } from '../../../engine/program/run-context.ts';
import { properties } from '../../../properties/index.ts';
import { runCase } from '../../../runner/index.ts';
import { describeViolation, reads } from '../../helpers/run.ts';
import { hugepage, mmap16, r, w } from './thp.setup.ts';

/** What maps page `page` of r0 in process `proc` after its last op: 't' a page of a THP, 'p' a small page, 'thp' the huge PMD. */
function after(p: Program, proc: number, page: number) {
  let state = '';
  let shared: boolean | undefined;
  let ids: number[] = [];
  const look = (ctx: RunContext): void => {
    const space = ctx.spaces[proc]!;
    const start = space.regions.get(0)!.start;
    const pmd = space.mm.pgd[pmd_index(start)];
    if (pmd_trans_huge(pmd)) return void (state = 'thp');
    const pte = pmd_table(pmd)!.ptes[page] as PtePresent;
    const folio = pfn_folio(pte.pfn);
    state = folio.order ? 't' : 'p';
    shared = folio.order ? folio_test_large_maybe_mapped_shared(folio) : undefined;
    ids = folio.order ? [folio_mm_id(folio, 0), folio_mm_id(folio, 1)] : [];
  };
  const res = runCase(p, new Replay([]), { properties }, (h) => ({
    ...h,
    afterOp(ctx, rec) {
      h.afterOp?.(ctx, rec);
      if (rec.thread === `P${proc}.T0` && rec.op.op === 'write') look(ctx);
    },
  }));
  return { res, state, shared, ids };
}

// P0 makes a THP and forks; the default schedule runs P0 to its end, then the child.
const parent = (...tail: Op[]): Op[] => [mmap16, hugepage, w(0, 1), { op: 'fork', child: 1 }, ...tail];
// The child splits the PMD (mprotect of part: its PTEs stay read-only and, after fork, not exclusive) and writes page 4.
const child = (...head: Op[]): Op[] => [...head, { op: 'mprotect', region: 0, page: 0, pages: 14, prot: 'r' }, { op: 'mprotect', region: 0, page: 0, pages: 14, prot: 'rw' }, w(4, 2), r(4), r(0)];

describe('engine/mm/memory: COW reuse of a PTE-mapped THP page (__wp_can_reuse_large_anon_folio, CONFIG_MM_ID)', () => {
  it('once the parent unmapped it, the child is the only mm mapping the THP: its write reuses the page in place', () => {
    const { res, state, shared, ids } = after({ frames: 48, processes: [{ threads: [parent({ op: 'munmap', region: 0, page: 0, pages: 16 })] }, { threads: [child()] }] }, 1, 4);
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(state, 't', 'page 4 is still the THP\'s');
    assert.equal(shared, false);
    assert.equal(ids.filter((id) => id !== 0).length, 1, 'one mm slot taken');
    assert.deepEqual(reads(res, 'P1.T0'), [2, 1]);
  });

  it('while the child still maps it (the shared bit), the parent\'s write copies the page; the child reads the old one', () => {
    const { res, state, shared } = after({ frames: 48, processes: [{ threads: [parent(...child())] }, { threads: [[r(4)]] }] }, 0, 4);
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(state, 'p', 'a fresh small page');
    assert.equal(shared, undefined);
    assert.deepEqual(reads(res, 'P0.T0'), [2, 1]);
    assert.deepEqual(reads(res, 'P1.T0'), [0]);
  });

  it('a GUP reference the child holds (FOLL_GET: refcount above mapcount) makes it copy, and the reference keeps the old page', () => {
    const get: Op = { op: 'get', ref: 0, region: 0, page: 4, fast: true };
    const { res, state } = after(
      { frames: 48, processes: [{ threads: [parent({ op: 'munmap', region: 0, page: 0, pages: 16 })] }, { threads: [[...child(get), { op: 'getRead', ref: 0, word: 0 }]] }] },
      1,
      4,
    );
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(state, 'p');
    const ref = res.history.records.find((x) => x.op.op === 'getRead')!;
    assert.equal((ref as { value?: number }).value, 0, 'the reference still reads the THP\'s page, which the write did not touch');
  });
});
