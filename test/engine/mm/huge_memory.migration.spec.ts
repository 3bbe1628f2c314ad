import assert from 'node:assert/strict';
import { Replay, type Strategy } from '../../../engine/index.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { is_pmd_migration_entry, pmd_table, pmd_trans_huge, type Pmd } from '../../../engine/mm/mm_types.ts';
import { kobject_freed } from '../../../engine/mm/kasan.ts';
import { pfn_folio } from '../../../engine/mm/page_alloc.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import type { RunContext } from '../../../engine/program/executor.ts';
import { properties } from '../../../properties/index.ts';
import { runCase } from '../../../runner/index.ts';
import { describeViolation, reads } from '../../helpers/run.ts';
import { hugepage, mmap16, phases, r, w } from './thp.setup.ts';

const THP: Op[] = [mmap16, hugepage, w(0, 1), w(3, 2)];
const migrate: Op = { op: 'migrate', victim: 0 };
/** kcompactd stands here once the THP is unmapped into its migration entry, before the copy. */
const COPY = 'folio_migrate_copy';

/** What maps an address's PMD slot. */
function shape(pmd: Pmd): string {
  if (pmd_trans_huge(pmd)) return `thp ${pmd.pfn}${pmd.write ? ' W' : ' R'}${PageAnonExclusive(pfn_folio(pmd.pfn).pages![0]!) ? ' excl' : ''}`;
  if (is_pmd_migration_entry(pmd)) return `pmd migration ${pmd.mode}`;
  const pte = pmd_table(pmd)?.ptes[0];
  if (!pte) return 'none';
  return pte.kind === 'present' ? `ptes of ${pfn_folio(pte.pfn).order ? 'a THP' : 'small pages'}` : pte.kind;
}

/**
 * Run `p` and record, after every op and every step, what maps the PMD of
 * region 0 in each process (`seen`, deduplicated per process), and whether a
 * task slept while a PMD migration entry was there (`slept`).
 */
function run(p: Program, strategy: Strategy = new Replay([])) {
  const seen = new Map<number, string[]>();
  const sleepers = new Set<string>();
  const look = (ctx: RunContext): void => {
    for (const space of ctx.spaces) {
      const region = space.regions.get(0);
      if (!region || kobject_freed(space.mm) || space.mm.mm_users === 0) continue;
      const s = shape(space.mm.pgd[pmd_index(region.start)]);
      const list = seen.get(space.pid) ?? [];
      if (list.at(-1) !== s) list.push(s);
      seen.set(space.pid, list);
      if (is_pmd_migration_entry(space.mm.pgd[pmd_index(region.start)])) {
        for (const t of ctx.execution.tasks) if (t.state === 'blocked' && t.name.startsWith('P')) sleepers.add(`${t.name} at ${t.label}`);
      }
    }
  };
  const res = runCase(p, strategy, { properties }, (h) => ({
    ...h,
    afterStep(ctx) {
      h.afterStep?.(ctx);
      look(ctx);
    },
    afterOp(ctx, rec) {
      h.afterOp?.(ctx, rec);
      look(ctx);
    },
  }));
  return { res, seen, sleepers };
}

const result = (res: ReturnType<typeof run>['res'], op: string): number => res.history.records.find((x) => x.op.op === op)!.result;

describe('engine/mm/huge_memory: PMD migration entries (set_pmd_migration_entry, remove_migration_pmd)', () => {
  it('kcompactd migrates a PMD-mapped THP whole: a PMD migration entry, then a PMD of the new THP, exclusive, with the data', () => {
    const { res, seen } = run({ frames: 48, processes: [{ threads: [[...THP, migrate, r(3), r(0)]] }] });
    assert.equal(res.violation, undefined, describeViolation(res));
    const [before, during, after] = seen.get(0)!.slice(-3);
    assert.match(before!, /^thp \d+ W excl$/);
    assert.equal(during, 'pmd migration write');
    assert.match(after!, /^thp \d+ W excl$/);
    assert.notEqual(before, after, 'another THP maps the range');
    assert.equal(result(res, 'migrate'), 1, 'moved');
    assert.deepEqual(reads(res, 'P0.T0'), [2, 1]);
  });

  it('a fault on a PMD migration entry sleeps until the migration is done (pmd_migration_entry_wait), then finds the new THP', () => {
    const p: Program = { frames: 48, processes: [{ threads: [[...THP], [r(3), w(5, 7), r(5)]] }], kthreads: [[migrate]] };
    const { strategy, reached } = phases([{ task: 'P0.T0' }, { task: 'K0', until: COPY }, { task: 'P0.T1', until: 'blocked' }]);
    const { res, seen, sleepers } = run(p, strategy);
    assert.deepEqual(reached, [false, true, true], 'kcompactd stood at the copy while P0.T1 slept');
    assert.ok([...sleepers].some((s) => s.startsWith('P0.T1 at wait(')), `P0.T1 waited on the old THP's lock: ${[...sleepers].join(', ')}`);
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.deepEqual(reads(res, 'P0.T1'), [2, 7]);
    assert.match(seen.get(0)!.at(-1)!, /^thp \d+ W excl$/);
  });

  it('GUP (a R/W long-term pin, slow or fast) waits on a PMD migration entry and pins the new THP', () => {
    for (const fast of [false, true]) {
      const pin: Op = { op: 'pin', region: 0, page: 2, pin: 0, write: true, longterm: true, fast };
      const p: Program = { frames: 48, processes: [{ threads: [[...THP], [pin, { op: 'pinWrite', pin: 0, word: 0, value: 9 }, r(2)]] }], kthreads: [[migrate]] };
      const { strategy, reached } = phases([{ task: 'P0.T0' }, { task: 'K0', until: COPY }, { task: 'P0.T1', until: 'blocked' }]);
      const { res, sleepers } = run(p, strategy);
      assert.deepEqual(reached, [false, true, true], `fast=${fast}: the pin slept during the migration`);
      assert.ok(sleepers.size > 0);
      assert.equal(res.violation, undefined, describeViolation(res));
      assert.equal(result(res, 'pin'), 0);
      assert.deepEqual(reads(res, 'P0.T1'), [9], `fast=${fast}: the pin writes into the page the process maps`);
    }
  });

  it('a pinned THP is not migrated: set_pmd_migration_entry() cannot mark it shared and puts the PMD back (-EBUSY)', () => {
    const pin: Op = { op: 'pin', region: 0, page: 2, pin: 0, write: true, longterm: true, fast: false };
    const { res, seen } = run({ frames: 48, processes: [{ threads: [[...THP, pin, migrate, r(0)]] }] });
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.equal(seen.get(0)!.length, 2, `never a migration entry: ${seen.get(0)!.join(', ')}`);
    assert.match(seen.get(0)!.at(-1)!, /^thp \d+ W excl$/);
  });

  it('fork copies a writable PMD migration entry made readable in parent and child: both map the new THP read-only, not exclusive', () => {
    const fork: Op = { op: 'fork', child: 1 };
    const p: Program = { frames: 48, processes: [{ threads: [[...THP], [fork, r(0)]] }, { threads: [[w(0, 5), r(0), r(3)]] }], kthreads: [[migrate]] };
    const { strategy, reached } = phases([{ task: 'P0.T0' }, { task: 'K0', until: COPY }, { task: 'P0.T1', until: 'blocked' }]);
    const { res, seen } = run(p, strategy);
    assert.deepEqual(reached.slice(0, 2), [false, true]);
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.ok(seen.get(1)!.includes('pmd migration read'), `the child got the entry, readable: ${seen.get(1)!.join(', ')}`);
    assert.ok(seen.get(0)!.includes('pmd migration read'), `the parent's was made readable: ${seen.get(0)!.join(', ')}`);
    assert.deepEqual(reads(res, 'P1.T0'), [5, 2]);
    assert.deepEqual(reads(res, 'P0.T1'), [1], 'the child\'s write stays in the child');
  });

  it('munmap, MADV_DONTNEED of part, mprotect and mremap of a THP under migration', () => {
    const cases: { op: Op; after: RegExp; reads: (number | string)[] }[] = [
      // zap_huge_pmd(): the entry and its deposit go, no rmap; the new THP is freed unmapped.
      { op: { op: 'munmap', region: 0, page: 0, pages: 16 }, after: /^none$/, reads: [] },
      // __split_huge_pmd_locked() on the entry: PTE migration entries, then PTEs of the new THP.
      { op: { op: 'madvise', region: 0, page: 4, pages: 4, advice: 'DONTNEED' }, after: /^ptes of a THP$/, reads: [2, 0] },
      // change_huge_pmd(): the writable entry made readable (exclusive): the new THP comes back read-only.
      { op: { op: 'mprotect', region: 0, page: 0, pages: 16, prot: 'r' }, after: /^thp \d+ R excl$/, reads: [2, 0] },
    ];
    for (const c of cases) {
      const tail: Op[] = c.reads.length ? [r(3), r(5)] : [];
      const p: Program = { frames: 48, processes: [{ threads: [[...THP], [c.op, ...tail]] }], kthreads: [[migrate]] };
      const { strategy, reached } = phases([{ task: 'P0.T0' }, { task: 'K0', until: COPY }, { task: 'P0.T1', until: 'blocked' }]);
      const { res, seen } = run(p, strategy);
      assert.equal(reached[1], true, `${c.op.op}: kcompactd stood at the copy`);
      assert.equal(res.violation, undefined, `${c.op.op}: ${describeViolation(res)}`);
      const list = seen.get(0) ?? [];
      const i = list.indexOf('pmd migration write');
      assert.ok(i >= 0, `${c.op.op}: ${list.join(', ')}`);
      assert.match(list.at(-1)!, c.after, `${c.op.op}: ${list.join(', ')}`);
      assert.deepEqual(reads(res, 'P0.T1'), c.reads, c.op.op);
      if (c.op.op === 'mprotect') assert.ok(list.includes('pmd migration read-exclusive'), list.join(', '));
    }
  });

  it('mremap moves a THP under migration onto another mapping (MREMAP_FIXED): the entry moves (or splits), the new THP is mapped there', () => {
    const mmap1: Op = { op: 'mmap', region: 1, pages: 16, prot: 'rw' };
    const move: Op = { op: 'mremap', region: 0, pages: 16, maymove: true, fixedTo: 1 };
    const p: Program = { frames: 48, processes: [{ threads: [[mmap1, ...THP], [move, r(3)]] }], kthreads: [[migrate]] };
    const { strategy, reached } = phases([{ task: 'P0.T0' }, { task: 'K0', until: COPY }, { task: 'P0.T1', until: 'blocked' }]);
    const { res, seen } = run(p, strategy);
    assert.equal(reached[1], true);
    assert.ok(seen.get(0)!.includes('pmd migration write'), seen.get(0)!.join(', '));
    assert.equal(res.violation, undefined, describeViolation(res));
    assert.ok(result(res, 'mremap') > 0, 'mremap returned the new address');
    assert.deepEqual(reads(res, 'P0.T1'), [2]);
  });
});
