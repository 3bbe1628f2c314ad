// mm/hugetlb.ts as a Linux mm developer would check it against mm/hugetlb.c:
// the pool, the page cache state a fault leaves, the huge PTE a fault or a
// store makes, PMD sharing at a file offset, hugetlb_wp(), the vma_lock's
// life (DONTNEED keeps it, the final unmap drops it and from then on nobody
// shares the VMA's page tables), mprotect's unsharing, and the BUG_ONs and
// lockdep WARNs of the file. Paths no op reaches on its own (a write fault on
// a write-protected shared huge PTE, truncate inside munmap's window) are
// driven from the harness.
import assert from 'node:assert/strict';
import { Pct, RandomWalk, Replay, kobject_freed, type Strategy, SINGLE_DEPTH_NESTING, currentStep, up_read, up_write, type KGen } from '../../../engine/index.ts';
import { is_hugetlb_pt_page, type HugetlbPtPage, HPAGE_NR_PAGES, HUGETLB_PFN_BASE, HUGETLB_POOL_PAGES, HugetlbVmaLock, alloc_hugetlb_folio, huge_pfn_frame, huge_pmd_unshare, hugetlb_change_protection, hugetlb_folio_put, hugetlb_hstate_of, hugetlb_pfn_folio, hugetlb_vma_lock_put, hugetlb_vma_lock_read, hugetlb_vma_lock_write, hugetlb_vma_unlock_write, hstate, unmap_hugepage_range, type HugetlbFolio } from '../../../engine/mm/hugetlb.ts';
import { pmd_index } from '../../../engine/mm/pgtable.ts';
import { runProgram, type RunContext, type RunResult } from '../../../engine/program/executor.ts';
import { valueOf, type OpRecord } from '../../../engine/program/history.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { hooksFor, properties } from '../../../properties/index.ts';
import { describeViolation, reads, runChecked } from '../../helpers/run.ts';
import { hugetlbfs_create, hugetlbfs_lookup, hugetlbfs_punch_hole, hugetlbfs_truncate, vm_mmap_hugetlbfs } from '../../../engine/fs/hugetlbfs.ts';
import { i_mmap_lock_write, i_mmap_unlock_write } from '../../../engine/fs/fs.ts';
import { mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { handle_mm_fault } from '../../../engine/mm/memory.ts';
import { FAULT_FLAG_WRITE, PG_dirty, PG_uptodate, VM_WRITE, WORDS_PER_PAGE, type MmStruct, type Pte, type VmArea } from '../../../engine/mm/mm_types.ts';
import { vm_munmap } from '../../../engine/mm/mmap.ts';
import { vma_modify_flags, vma_modify_prev } from '../../../engine/mm/vma.ts';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock, vma_start_write } from '../../../engine/mm/mmap_lock.ts';
import { change_protection, sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { folio_get } from '../../../engine/mm/page_alloc.ts';
import { RO, RW, kernel, load, run, store, violates } from '../harness.ts';

/** Sequential: the default rule runs each task to completion, lowest id first. */
const seq = (p: Program): RunResult => {
  const r = runChecked(p, new Replay([]));
  assert.equal(r.violation, undefined, describeViolation(r));
  return r;
};

const map = (hpages = 1, hpage = 0, file = 0, region = 0): Op => ({ op: 'hugetlbMmap', region, file, hpage, hpages, prot: 'rw' });
const rd = (page: number, word = 0, region = 0): Op => ({ op: 'read', region, page, word });
const wr = (page: number, value: number, word = 0, region = 0): Op => ({ op: 'write', region, page, word, value });

/** The page-table page in mm's slot for address, if any. */
function slotOf(ctx: RunContext, pid: number, address: number): HugetlbPtPage | undefined {
  const space = [...ctx.spaces].reverse().find((s) => s.pid === pid && !kobject_freed(s.mm) && s.mm.mm_users > 0);
  const table = space?.mm.pgd[pmd_index(address)];
  return table && is_hugetlb_pt_page(table) ? table : undefined;
}

const H = HPAGE_NR_PAGES;
const EFAULT = -14;
const CLEAN = PG_uptodate | PG_dirty;

interface Mapping {
  readonly mm: MmStruct;
  readonly a: number;
  readonly vma: VmArea;
}

/** A process mapping `len` pages of hugetlbfs file `file` from page `pgoff`, MAP_SHARED. */
function* hmap(owner: string, prot: number, len: number, pgoff = 0, file = 0): KGen<Mapping> {
  const mm = mm_alloc(owner);
  const a = yield* vm_mmap_hugetlbfs(mm, file, len, prot, pgoff);
  assert.ok(a > 0, `mmap: ${a}`);
  return { mm, a, vma: mm.mmap.find((v) => v.vm_start === a)! };
}

/** The hugetlb page-table page in mm's PMD slot for addr. */
/** mprotect_fixup()'s VMA half: vma_modify_flags(), then the flags set on what it returns. */
function* setFlags(vma: VmArea, start: number, end: number, flags: number): KGen<VmArea> {
  const v = (yield* vma_modify_flags(vma_modify_prev(vma, start), vma, start, end, flags)) as VmArea;
  yield* vma_start_write(v);
  v.vm_flags = flags;
  return v;
}

const slot = (mm: MmStruct, addr: number): HugetlbPtPage | undefined => mm.pgd[pmd_index(addr)] as HugetlbPtPage | undefined;
/** The huge PTE mapping addr (entry 0 of its page-table page). */
const hpte = (mm: MmStruct, addr: number): Pte | undefined => slot(mm, addr)?.ptes[0];
const kind = (mm: MmStruct, addr: number): string => hpte(mm, addr)?.kind ?? 'none';
const present = (pfn: number, write: boolean, dirty: boolean): Pte => ({ kind: 'present', pfn, write, dirty, protnone: false });
const pfnOf = (mm: MmStruct, addr: number): number => (hpte(mm, addr) as { pfn: number }).pfn;
/** The page-cache folio of file `file` at huge page index idx. */
const cached = (idx: number, file = 0): HugetlbFolio | undefined => hugetlbfs_lookup(file)!.f_mapping.i_pages[idx] as HugetlbFolio | undefined;

const EINVAL = -22;

describe('engine/mm/hugetlb: sequential semantics of shared hugetlbfs mappings', () => {
  it("a fork's child and its parent see each other's writes to the shared file pages", () => {
    const r = seq({
      processes: [
        { threads: [[map(2), wr(0, 1), { op: 'fork', child: 1 }, wr(0, 2, 1)]] },
        { threads: [[rd(0), rd(0, 1), wr(1, 3), { op: 'fork', child: 2 }]] },
        { threads: [[rd(1), rd(0, 1)]] },
      ],
    });
    // The child runs after the parent finished: it reads the parent's write made after the fork.
    assert.deepEqual(reads(r, 'P1.T0'), [1, 2]);
    assert.deepEqual(reads(r, 'P2.T0'), [3, 2]);
  });

  it('data written through one mapping outlives munmap and is read by a process that maps the file later', () => {
    const r = seq({
      processes: [
        { threads: [[{ op: 'fork', child: 1 }, map(1), wr(0, 5), { op: 'munmap', region: 0, page: 0, pages: 1 }, rd(0)]] },
        { threads: [[map(1), rd(0), rd(0, 1)]] },
      ],
    });
    // The region handle is gone with the mapping.
    assert.deepEqual(reads(r, 'P0.T0'), ['err-22']);
    assert.deepEqual(reads(r, 'P1.T0'), [5, 0]);
  });

  it('a hole punch reads back zero in every process; the other huge pages keep their data', () => {
    const r = seq({
      processes: [
        { threads: [[map(2), wr(0, 1), wr(1, 2), { op: 'fork', child: 1 }, { op: 'hugetlbPunch', file: 0, hpage: 0, hpages: 1 }, rd(0), rd(1)]] },
        { threads: [[rd(0), rd(1), wr(0, 3), rd(0)]] },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), [0, 2]);
    assert.deepEqual(reads(r, 'P1.T0'), [0, 2, 3]);
  });

  it('truncate: a page beyond the end of the file cannot be faulted; grown again, it reads zero', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              map(2),
              wr(1, 7),
              { op: 'hugetlbTruncate', file: 0, hpages: 1 },
              rd(1),
              rd(0),
              { op: 'hugetlbTruncate', file: 0, hpages: 2 },
              rd(1),
              { op: 'hugetlbTruncate', file: 0, hpages: 5 },
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), ['err-14', 0, 0]);
    assert.equal(r.history.records.at(-1)!.result, -22, 'a file may not grow past the pool (no reservations)');
  });

  it('a read-only mapping of an empty file cannot fault; a writable one extends it; create refuses an existing file', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              { op: 'hugetlbMmap', region: 1, file: 1, hpage: 0, hpages: 1, prot: 'r' },
              rd(0, 0, 1),
              { op: 'hugetlbCreate', file: 0, hpages: 1 },
              { op: 'hugetlbCreate', file: 0, hpages: 1 },
              { op: 'hugetlbMmap', region: 0, file: 0, hpage: 1, hpages: 1, prot: 'rw' },
              rd(0),
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), ['err-14', 0]);
    assert.deepEqual(
      r.history.records.filter((x) => x.op.op === 'hugetlbCreate').map((x) => x.result),
      [0, -17],
    );
  });

  it('mprotect and munmap split a hugetlb mapping at huge page boundaries', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              map(2),
              wr(0, 1),
              wr(1, 2),
              { op: 'mprotect', region: 0, page: 1, pages: 1, prot: 'r' },
              wr(1, 3),
              rd(1),
              { op: 'mprotect', region: 0, page: 1, pages: 1, prot: 'rw' },
              wr(1, 4),
              { op: 'munmap', region: 0, page: 0, pages: 1 },
              rd(1),
              rd(0),
            ],
          ],
        },
      ],
    });
    assert.deepEqual(
      r.history.records.filter((x) => x.op.op === 'write').map((x) => x.result),
      [0, 0, -14, 0],
    );
    assert.deepEqual(reads(r, 'P0.T0'), [2, 4, 'err-14']);
  });

  it('DONTNEED zaps a hugetlb mapping but the file keeps the data; WIPEONFORK is refused', () => {
    const r = seq({
      processes: [
        {
          threads: [
            [
              map(1),
              wr(0, 9),
              { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'DONTNEED' },
              rd(0),
              { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'WIPEONFORK' },
              { op: 'mremap', region: 0, pages: 32, maymove: true },
              { op: 'pin', pin: 0, region: 0, page: 0, write: false, fast: true, longterm: false },
            ],
          ],
        },
      ],
    });
    assert.deepEqual(reads(r, 'P0.T0'), [9]);
    assert.deepEqual(
      r.history.records.slice(4).map((x) => x.result),
      [-22, -22, -14],
      'no WIPEONFORK, mremap or GUP of hugetlb VMAs in the model',
    );
  });
});

describe('engine/mm/hugetlb: PMD sharing', () => {
  it('two processes mapping the same file page share one page-table page; munmap unshares and leaves the other mapped', () => {
    const program: Program = {
      processes: [
        { threads: [[map(1), wr(0, 5), { op: 'fork', child: 1 }, rd(0), rd(0)]] },
        { threads: [[rd(0), { op: 'munmap', region: 0, page: 0, pages: 1 }]] },
      ],
    };
    const props = hooksFor(properties);
    let found = false;
    for (let seed = 0; seed < 400 && !found; seed++) {
      const seen: { shared?: boolean; afterUnmap?: string } = {};
      const strategy: Strategy = seed % 2 ? new Pct({ seed, depth: 3, maxSteps: 300 }) : new RandomWalk(seed);
      const r = runProgram(program, {
        strategy,
        hooks: {
          ...props,
          afterOp(ctx: RunContext, rec: OpRecord) {
            props.afterOp?.(ctx, rec);
            if (rec.thread === 'P1.T0' && rec.kind === 'read') {
              const a = slotOf(ctx, 0, rec.addr!);
              const b = slotOf(ctx, 1, rec.addr!);
              seen.shared = a !== undefined && a === b && a.pt_share_count === 2;
            }
            if (rec.thread === 'P1.T0' && rec.kind === 'munmap' && seen.shared) {
              const a = slotOf(ctx, 0, rec.addr!);
              const b = slotOf(ctx, 1, rec.addr!);
              const pte = a?.ptes[0];
              seen.afterUnmap = `${a ? `P0 count ${a.pt_share_count} ${pte?.kind}` : 'P0 none'}, ${b ? 'P1 has a table' : 'P1 none'}`;
            }
          },
        },
      });
      assert.equal(r.violation, undefined, `seed ${seed}: ${describeViolation(r)}`);
      const recs = r.history.records;
      const unmap = recs.find((x) => x.thread === 'P1.T0' && x.op.op === 'munmap')!;
      const lastRead = recs.filter((x) => x.thread === 'P0.T0' && x.op.op === 'read').at(-1)!;
      if (!seen.shared || !seen.afterUnmap || unmap.end > lastRead.start) continue;
      found = true;
      assert.equal(seen.afterUnmap, 'P0 count 1 present, P1 none');
      assert.equal(valueOf(lastRead), 5);
    }
    assert.ok(found, 'no interleaving shared the page table and unmapped one sharer while the other still read');
  });

  it('page-table pages and vma_locks are all freed when the processes exit; the file keeps its pages', () => {
    const r = runChecked({
      processes: [
        { threads: [[map(2), wr(0, 1), wr(1, 2), { op: 'fork', child: 1 }, rd(0)]] },
        { threads: [[rd(0), rd(1)]] },
      ],
    });
    assert.equal(r.violation, undefined, describeViolation(r));
    assert.equal(r.context.kernel.kasan.live.get('pte_table') ?? 0, 0);
    assert.equal(r.context.kernel.kasan.live.get('hugetlb_vma_lock') ?? 0, 0);
    assert.equal(r.context.kernel.kasan.live.get('hugetlb_folio'), 2);
  });
});

describe('engine/mm/hugetlb: concurrent programs', function () {
  this.timeout(120_000);
  const fork: Op = { op: 'fork', child: 1 };
  const punch: Op = { op: 'hugetlbPunch', file: 0, hpage: 0, hpages: 1 };
  const truncate = (hpages: number): Op => ({ op: 'hugetlbTruncate', file: 0, hpages });
  const unmap: Op = { op: 'munmap', region: 0, page: 0, pages: 1 };
  const mprotect = (prot: 'r' | 'rw'): Op => ({ op: 'mprotect', region: 0, page: 0, pages: 1, prot });
  /** Each program, and the op kind that races the other process's faults. */
  const programs: Record<string, [Program, Op['op']]> = {
    'faults vs. hole punch in another process': [{ processes: [{ threads: [[map(2), fork, rd(0), wr(0, 1), rd(1)]] }, { threads: [[rd(0), punch, wr(0, 2), punch]] }] }, 'hugetlbPunch'],
    'faults vs. truncate': [{ processes: [{ threads: [[map(2), fork, wr(1, 1), rd(1), rd(0)]] }, { threads: [[rd(1), truncate(1), truncate(2), wr(1, 2)]] }] }, 'hugetlbTruncate'],
    'faults vs. munmap and exit of a sharer': [{ processes: [{ threads: [[map(1), fork, rd(0), wr(0, 1), rd(0)], [rd(0), punch]] }, { threads: [[rd(0), unmap]] }] }, 'munmap'],
    'faults vs. mprotect of a sharer': [{ processes: [{ threads: [[map(1), fork, wr(0, 1), rd(0)]] }, { threads: [[rd(0), mprotect('r'), rd(0), mprotect('rw'), wr(0, 2)]] }] }, 'mprotect'],
    'two threads fault while a third process punches': [
      { processes: [{ threads: [[map(2), fork, wr(0, 1), rd(1)], [wr(1, 2), rd(0)]] }, { threads: [[punch, rd(0), { op: 'hugetlbPunch', file: 0, hpage: 1, hpages: 1 }]] }] },
      'hugetlbPunch',
    ],
  };
  /** The race window: a successful `racer` op ran while a read or write of another process was between its first and last step. */
  const windowReached = (r: RunResult, racer: Op['op']): boolean => {
    const recs = r.history.records;
    const process = (thread: string) => thread.split('.')[0];
    return recs.some(
      (x) => x.op.op === racer && x.result >= 0 && recs.some((f) => (f.op.op === 'read' || f.op.op === 'write') && process(f.thread) !== process(x.thread) && f.start < x.end && x.start < f.end),
    );
  };
  for (const [name, [program, racer]] of Object.entries(programs)) {
    it(`${name}: under random and PCT schedules the ${racer} runs in the middle of a fault, and nothing is violated`, () => {
      let reached = 0;
      for (let seed = 0; seed < 150; seed++) {
        for (const strategy of [new RandomWalk(seed), new Pct({ seed, depth: 3, maxSteps: 300 })]) {
          const r = runChecked(program, strategy);
          assert.equal(r.violation, undefined, `${strategy.describe()}: ${describeViolation(r)}`);
          if (windowReached(r, racer)) reached++;
        }
      }
      assert.ok(reached >= 50, `the ${racer} overlapped a fault of the other process in ${reached} of 300 runs`);
    });
  }
});

describe('engine/mm/hugetlb: hugetlb pool and page cache (mm/hugetlb.ts)', () => {
  it('a fresh huge page reads zero in every word of every base page; pages go out lowest first whatever order they were freed in; an empty pool is SIGBUS', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 4 * H), 0);
      assert.equal(yield* hugetlbfs_create(1, 4 * H), 0);
      const p = yield* hmap('P0', RW, 4 * H);
      for (let i = 0; i < H; i++) for (let w = 0; w < WORDS_PER_PAGE; w++) assert.equal(yield* load(p.mm, p.a + 3 * H + i, w), 0, `page ${i} word ${w}`);
      for (let h = 0; h < 4; h++) assert.equal(yield* store(p.mm, p.a + h * H + H - 1, h + 1, WORDS_PER_PAGE - 1), 0);
      assert.deepEqual([0, 1, 2, 3].map((h) => huge_pfn_frame(pfnOf(p.mm, p.a + h * H))), [1, 2, 3, 0], 'frame 0 went to the first fault');
      assert.equal(hstate().free_huge_pages, 0);
      // The pool is empty: a fault that needs a new page is SIGBUS, and maps nothing.
      const q = yield* hmap('P1', RW, 4 * H, 0, 1);
      assert.equal(yield* load(q.mm, q.a), EFAULT);
      assert.equal(kind(q.mm, q.a), 'none');
      assert.equal(cached(0, 1), undefined);
      // Free frames 2, 1 and 3, in that order (file 0's huge pages 1, 0 and 2).
      for (const h of [1, 0, 2]) assert.equal(yield* hugetlbfs_punch_hole(0, h * H, H), 0);
      assert.equal(hstate().free_huge_pages, 3);
      for (let h = 0; h < 3; h++) assert.equal(yield* store(q.mm, q.a + h * H, 10 + h), 0);
      assert.deepEqual([0, 1, 2].map((h) => pfnOf(q.mm, q.a + h * H)), [1, 2, 3].map((f) => HUGETLB_PFN_BASE + f * H), 'lowest frame first');
      assert.equal(yield* load(q.mm, q.a + 3 * H), EFAULT, 'empty again');
      assert.equal(yield* load(p.mm, p.a + 3 * H + H - 1, WORDS_PER_PAGE - 1), 4, 'the page nobody punched keeps its data');
    });
  });

  it('a fault adds the page to the page cache uptodate and dirty, with a reference for the cache and one for the mapping; stores and DONTNEED keep it so', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const p = yield* hmap('P0', RW, H);
      assert.equal(yield* load(p.mm, p.a + 2), 0);
      const f = cached(0)!;
      assert.equal(hugetlb_pfn_folio(pfnOf(p.mm, p.a)), f);
      assert.equal(f.f_mapping, hugetlbfs_lookup(0)!.f_mapping);
      assert.deepEqual([f.index, f._refcount, f._mapcount, f.flags & CLEAN], [0, 2, 1, CLEAN]);
      assert.equal(yield* store(p.mm, p.a + 5, 7, 1), 0);
      assert.deepEqual(hpte(p.mm, p.a), present(f.pfn, true, true), 'the MMU sets the dirty bit of a writable huge PTE');
      assert.equal(f.flags & CLEAN, CLEAN);
      // DONTNEED zaps the dirty PTE: the file keeps the page, uptodate and dirty.
      assert.equal(yield* do_madvise(p.mm, p.a, H, 'DONTNEED'), 0);
      assert.equal(kind(p.mm, p.a), 'none');
      assert.deepEqual([f._refcount, f._mapcount, f.flags & CLEAN], [1, 0, CLEAN]);
      assert.equal(cached(0), f);
      assert.equal(yield* load(p.mm, p.a + 5, 1), 7);
    });
  });

  it('a page punched out of the file while someone holds a reference leaves the cache clean and !uptodate, and goes back to the pool at the last put', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const p = yield* hmap('P0', RW, H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      const f = cached(0)!;
      folio_get(f);
      const free = hstate().free_huge_pages;
      assert.equal(yield* hugetlbfs_punch_hole(0, 0, H), 0);
      assert.equal(cached(0), undefined);
      assert.equal(kind(p.mm, p.a), 'none');
      assert.equal(f.f_mapping, undefined);
      assert.equal(f.flags & CLEAN, 0, 'hugetlb_delete_from_page_cache: folio_clear_dirty, folio_clear_uptodate');
      assert.deepEqual([f._refcount, f._mapcount], [1, 0]);
      assert.ok(!kobject_freed(f));
      assert.equal(hstate().free_huge_pages, free);
      hugetlb_folio_put(f);
      assert.ok(kobject_freed(f));
      assert.equal(hstate().free_huge_pages, free + 1);
      assert.equal(yield* load(p.mm, p.a), 0, 'punched: a new zeroed page');
    });
  });
});

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

describe('engine/mm/hugetlb: PMD sharing and the vma_lock (huge_pmd_share, page_table_shareable)', () => {
  it('processes mapping the same file page at other file offsets of their VMAs share its page table', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const q = yield* hmap('Q', RW, H, H);
      assert.equal(yield* store(q.mm, q.a + 4, 1), 0);
      const t = slot(q.mm, q.a)!;
      // S maps the whole file: its second huge page is Q's (svma's vm_pgoff is H).
      const s = yield* hmap('S', RW, 2 * H, 0);
      assert.equal(yield* load(s.mm, s.a + H + 4), 1);
      assert.equal(slot(s.mm, s.a + H), t);
      assert.equal(slot(s.mm, s.a), undefined, 'the first huge page was not touched');
      // R maps the second huge page alone (its own vm_pgoff is H).
      const r = yield* hmap('R', RW, H, H);
      assert.equal(yield* load(r.mm, r.a + 4), 1);
      assert.equal(slot(r.mm, r.a), t);
      assert.equal(t.pt_share_count, 3);
      assert.equal(cached(1)!._mapcount, 1, 'one page table maps it for all three');
    });
  });

  it('MADV_DONTNEED keeps the vma_lock (only the final unmap frees it): the VMA can still share its page table', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const p = yield* hmap('P0', RW, H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      const lock = p.vma.vm_private_data as HugetlbVmaLock;
      assert.ok(lock instanceof HugetlbVmaLock);
      const t = slot(p.mm, p.a)!;
      assert.equal(yield* do_madvise(p.mm, p.a, H, 'DONTNEED'), 0);
      assert.equal(p.vma.vm_private_data, lock);
      assert.equal(lock.vma, p.vma);
      assert.ok(!kobject_freed(lock));
      assert.equal(slot(p.mm, p.a), t, 'the page table stays');
      assert.equal(kind(p.mm, p.a), 'none');
      const q = yield* hmap('P1', RW, H);
      assert.equal(yield* load(q.mm, q.a), 1);
      assert.equal(slot(q.mm, q.a), t);
      assert.equal(t.pt_share_count, 2);
    });
  });

  it("truncate takes each VMA's vma_lock and unmaps the range from it: a page table shared there is let go even where nothing is mapped", () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* hmap('P0', RO, 2 * H);
      assert.equal(yield* load(p.mm, p.a + H), 0);
      assert.equal(yield* do_madvise(p.mm, p.a + H, H, 'DONTNEED'), 0);
      const t = slot(p.mm, p.a + H)!;
      assert.equal(yield* hugetlbfs_truncate(0, H), 0);
      assert.equal(cached(1), undefined);
      // Q's fault beyond the end of the file takes a share of P's (empty)
      // page table before it finds there is no page to map: SIGBUS.
      const q = yield* hmap('P1', RO, 2 * H);
      assert.equal(yield* load(q.mm, q.a + H), EFAULT);
      assert.equal(slot(q.mm, q.a + H), t);
      assert.equal(t.pt_share_count, 2);
      assert.equal(t.ptes[0]!.kind, 'none');
      // Nobody holds a vma_lock: hugetlb_vmdelete_list() gets each at once.
      assert.equal(yield* hugetlbfs_truncate(0, 0), 0);
      assert.equal(slot(p.mm, p.a + H), undefined, 'the first VMA in i_mmap unshares');
      assert.equal(slot(q.mm, q.a + H), t);
      assert.equal(t.pt_share_count, 1);
    });
  });

  /**
   * P maps the file and writes 5, then munmaps while Q runs `q`; Q is run
   * whole at each step of P's munmap. The window that matters: P's final zap
   * has freed its vma_lock and dropped i_mmap_rwsem, but P's VMA is still in
   * i_mmap and its page table is still in its slot (free_pgtables to come).
   */
  function raceMunmap<S extends { inWindow?: boolean }>(q: (st: S, pmm: MmStruct) => KGen<unknown>, check: (st: S, r: ReturnType<typeof kernel>, schedule: string) => void): void {
    const once = (k: number | undefined) => {
      const st = {} as S & { setup?: number; done?: number };
      let pmm: MmStruct | undefined;
      const r = kernel(
        {
          P: function* () {
            assert.equal(yield* hugetlbfs_create(0, H), 0);
            const p = yield* hmap('P0', RW, H);
            pmm = p.mm;
            assert.equal(yield* store(p.mm, p.a, 5), 0);
            st.setup = currentStep();
            assert.equal(yield* vm_munmap(p.mm, p.a, H), 0);
            st.done = currentStep();
          },
          Q: function* () {
            if (pmm === undefined) return;
            st.inWindow = hugetlbfs_lookup(0)!.f_mapping.i_mmap.some((v) => v.vm_mm === pmm && v.vm_private_data === undefined);
            yield* q(st, pmm);
          },
        },
        { schedule: k === undefined ? [] : [{ step: k, task: 1 }] },
      );
      return { r, st };
    };
    const base = once(undefined);
    assert.equal(base.r.violation, undefined);
    let hits = 0;
    // setup is the step in which P's store completed: switch from the next one on.
    for (let k = base.st.setup! + 1; k <= base.st.done!; k++) {
      const { r, st } = once(k);
      check(st, r, `switch to Q at step ${k}`);
      if (st.inWindow) hits++;
    }
    assert.ok(hits > 0, 'no schedule ran Q inside the window');
  }

  it("a VMA whose final unmap has begun is not shared from: a fault racing munmap gets its own page table, which munmap's free_pgtables leaves alone", () => {
    let mm: MmStruct | undefined;
    raceMunmap<{ inWindow?: boolean; value?: number; at?: number }>(
      function* (st) {
        const q = yield* hmap('P1', RW, H);
        mm = q.mm;
        st.at = q.a;
        st.value = yield* load(q.mm, q.a);
      },
      (st, r, s) => {
        assert.equal(r.violation, undefined, `${s}: ${r.violation?.message}`);
        assert.equal(st.value, 5, s);
        const t = slot(mm!, st.at!);
        assert.ok(t && !kobject_freed(t), `${s}: Q's page table was freed under it`);
        assert.equal(t.pt_share_count, 1, s);
        assert.equal(t.ptes[0]!.kind, 'present', s);
      },
    );
  });

  it("truncate inside munmap's window unmaps a VMA that no longer has a vma_lock without one", () => {
    raceMunmap<{ inWindow?: boolean; ret?: number }>(
      function* (st) {
        st.ret = yield* hugetlbfs_truncate(0, 0);
      },
      (st, r, s) => {
        assert.equal(r.violation, undefined, `${s}: ${r.violation?.message}`);
        assert.equal(st.ret, 0, s);
        assert.deepEqual(r.warnings, [], s);
        assert.equal(hugetlb_hstate_of(r.machine)!.free_huge_pages, HUGETLB_POOL_PAGES, `${s}: every huge page back in the pool`);
      },
    );
  });
});

describe('engine/mm/hugetlb: hugetlb mprotect (hugetlb_change_protection)', () => {
  it("mprotect of a sharer unshares its page tables: the other process's PTEs are not changed under it", () => {
    const r = run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* hmap('P0', RW, 2 * H);
      const q = yield* hmap('P1', RW, 2 * H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      assert.equal(yield* store(p.mm, p.a + H, 2), 0);
      assert.equal(yield* load(q.mm, q.a), 1);
      assert.equal(yield* load(q.mm, q.a + H), 2);
      const t = [slot(p.mm, p.a)!, slot(p.mm, p.a + H)!];
      assert.deepEqual([slot(q.mm, q.a), slot(q.mm, q.a + H)], t);
      const before = t.map((x) => x.ptes[0]);
      assert.equal(yield* sys_mprotect(q.mm, q.a, 2 * H, RO), 0);
      assert.deepEqual([slot(q.mm, q.a), slot(q.mm, q.a + H)], [undefined, undefined]);
      assert.deepEqual(t.map((x) => x.pt_share_count), [1, 1]);
      assert.deepEqual(t.map((x) => x.ptes[0]), before, "P's PTEs as they were");
      assert.equal(yield* store(p.mm, p.a, 3), 0);
      assert.equal(yield* load(q.mm, q.a), 3);
      assert.notEqual(slot(q.mm, q.a), t[0]);
      assert.deepEqual(hpte(q.mm, q.a), present(cached(0)!.pfn, false, false));
      assert.equal(yield* store(q.mm, q.a, 4), EFAULT);
    });
    assert.deepEqual(r.warnings, [], 'huge_pmd_unshare() with the vma_lock and i_mmap_rwsem held');
  });

  it('hugetlb_change_protection() counts the huge entries it changed and the page tables it unshared', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 3 * H), 0);
      const p = yield* hmap('P0', RW, 3 * H);
      const q = yield* hmap('P1', RW, H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      assert.equal(yield* store(p.mm, p.a + H, 2), 0);
      assert.equal(yield* load(q.mm, q.a), 1);
      const t0 = slot(p.mm, p.a)!;
      assert.equal(t0.pt_share_count, 2);
      yield* mmap_write_lock(p.mm);
      const v = yield* setFlags(p.vma, p.a, p.a + 3 * H, p.vma.vm_flags & ~VM_WRITE);
      // The first page table is unshared, the second changed, the third absent.
      assert.equal(yield* hugetlb_change_protection(v, p.a, p.a + 3 * H), 2);
      yield* mmap_write_unlock(p.mm);
      assert.equal(slot(p.mm, p.a), undefined);
      assert.deepEqual(hpte(p.mm, p.a + H), present(cached(1)!.pfn, false, true));
      assert.deepEqual(t0.ptes[0], present(cached(0)!.pfn, true, true), "Q's PTE as it was");
      assert.equal(t0.pt_share_count, 1);
    });
  });

  it('mprotect of one huge page of a VMA changes that huge PTE only; an empty huge PTE stays empty', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* hmap('P0', RW, 2 * H);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      assert.equal(yield* store(p.mm, p.a + H, 2), 0);
      const [f0, f1] = [cached(0)!, cached(1)!];
      assert.equal(yield* sys_mprotect(p.mm, p.a, H, RO), 0);
      assert.deepEqual(hpte(p.mm, p.a), present(f0.pfn, false, true));
      assert.deepEqual(hpte(p.mm, p.a + H), present(f1.pfn, true, true), 'the next huge page is not ours to change');
      assert.equal(yield* store(p.mm, p.a, 3), EFAULT);
      // Zapped by DONTNEED: the page table stays with an empty entry, which
      // mprotect leaves empty.
      assert.equal(yield* do_madvise(p.mm, p.a + H, H, 'DONTNEED'), 0);
      assert.ok(slot(p.mm, p.a + H));
      assert.equal(yield* sys_mprotect(p.mm, p.a + H, H, RO), 0);
      assert.equal(kind(p.mm, p.a + H), 'none');
      assert.equal(f1._mapcount, 0);
      assert.equal(yield* load(p.mm, p.a + H), 2);
      assert.deepEqual(hpte(p.mm, p.a + H), present(f1.pfn, false, false));
    });
  });
});

describe('engine/mm/hugetlb: hugetlb BUG_ONs and lockdep WARNs', () => {
  function* mappedPage(): KGen<Mapping & { f: HugetlbFolio }> {
    assert.equal(yield* hugetlbfs_create(0, H), 0);
    const p = yield* hmap('P0', RW, H);
    assert.equal(yield* store(p.mm, p.a, 1), 0);
    return { ...p, f: cached(0)! };
  }

  it('free_huge_folio: a huge page freed while mapped or while in the page cache; folio_put without a reference', () => {
    violates(function* () {
      const { f } = yield* mappedPage();
      hugetlb_folio_put(f);
      hugetlb_folio_put(f);
    }, 'kernel-bug', /free_huge_folio.*freed while mapped/);
    violates(function* () {
      const p = yield* mappedPage();
      assert.equal(yield* do_madvise(p.mm, p.a, H, 'DONTNEED'), 0);
      hugetlb_folio_put(p.f);
    }, 'kernel-bug', /free_huge_folio.*freed while in the page cache/);
    violates(function* () {
      const f = (yield* alloc_hugetlb_folio())!;
      f._refcount = 0;
      hugetlb_folio_put(f);
    }, 'kernel-bug', /folio_put.*refcount underflow/);
  });

  it('__unmap_hugepage_range: a range that is not whole huge pages; a mapped page whose mapcount is already 0', () => {
    for (const [s, e] of [
      [1, H],
      [0, H - 1],
    ]) {
      violates(function* () {
        const p = yield* mappedPage();
        yield* hugetlb_vma_lock_write(p.vma);
        yield* i_mmap_lock_write(p.vma.vm_file!.f_mapping);
        yield* unmap_hugepage_range(p.vma, p.a + s, p.a + e);
      }, 'kernel-bug', /__unmap_hugepage_range.*not huge page aligned/);
    }
    violates(function* () {
      const p = yield* mappedPage();
      p.f._mapcount = 0;
      yield* do_madvise(p.mm, p.a, H, 'DONTNEED');
    }, 'kernel-bug', /__unmap_hugepage_range.*mapcount underflow/);
  });

  it('KASAN: the rw_semaphore lives inside the vma_lock: a task that slept on it gets it after the vma_lock was freed (a put without a reference of its own) and touches freed memory', () => {
    const once = (k: number | undefined) => {
      const st: { locked?: number; vma?: VmArea } = {};
      const r = kernel(
        {
          T0: function* () {
            const p = yield* mappedPage();
            st.vma = p.vma;
            const lock = p.vma.vm_private_data!;
            yield* hugetlb_vma_lock_write(p.vma);
            st.locked = currentStep();
            yield 'holding the vma_lock';
            const sem = lock.rw_sema;
            hugetlb_vma_lock_put(lock);
            yield* up_write(sem);
          },
          T1: function* () {
            if (!st.vma) return;
            // A fault of the VMA: it read the vma_lock pointer, then sleeps on it.
            const sem = st.vma.vm_private_data!.rw_sema;
            yield* hugetlb_vma_lock_read(st.vma);
            yield* up_read(sem);
          },
        },
        { schedule: k === undefined ? [] : [{ step: k, task: 1 }] },
      );
      return { r, st };
    };
    // A first run finds the step at which T0 holds the lock; then T1 runs from the next one.
    const { r } = once(once(undefined).st.locked! + 1);
    assert.ok(r.violation, 'no violation');
    assert.equal(r.violation.property, 'memory-safety', r.violation.message);
    assert.equal(r.violation.task, 'T1');
    assert.match(r.violation.message, /use-after-free: read of hugetlb_vma_lock#\d+/);
  });

  it('huge_pmd_unshare: BUG on a page table with no sharers; WARN without the vma_lock or i_mmap_rwsem held for write', () => {
    violates(function* () {
      const p = yield* mappedPage();
      const t = slot(p.mm, p.a)!;
      t.pt_share_count = 0;
      yield* hugetlb_vma_lock_write(p.vma);
      yield* i_mmap_lock_write(p.vma.vm_file!.f_mapping);
      huge_pmd_unshare(p.mm, p.vma, p.a, t);
    }, 'kernel-bug', /huge_pmd_unshare.*no sharers/);
    const noVmaLock = run(function* () {
      const p = yield* mappedPage();
      const mapping = p.vma.vm_file!.f_mapping;
      yield* i_mmap_lock_write(mapping);
      assert.equal(huge_pmd_unshare(p.mm, p.vma, p.a, slot(p.mm, p.a)!), 0, 'not shared');
      yield* i_mmap_unlock_write(mapping);
    });
    assert.equal(noVmaLock.warnings.length, 1, noVmaLock.warnings.join('; '));
    assert.match(noVmaLock.warnings[0]!, /huge_pmd_unshare: hugetlb_vma_lock\(.*\) not held/);
    const noIMmap = run(function* () {
      const p = yield* mappedPage();
      yield* hugetlb_vma_lock_write(p.vma);
      assert.equal(huge_pmd_unshare(p.mm, p.vma, p.a, slot(p.mm, p.a)!), 0);
      yield* hugetlb_vma_unlock_write(p.vma);
    });
    assert.equal(noIMmap.warnings.length, 1, noIMmap.warnings.join('; '));
    assert.match(noIMmap.warnings[0]!, /huge_pmd_unshare: .*not held for write/);
  });
});

describe('engine/mm/hugetlb: hugetlb PMD sharing, madvise and dirty bits (mm/hugetlb.ts)', () => {
  const H = HPAGE_NR_PAGES;
  const map = function* (owner: string, prot: number, len = 2 * H, pgoff = 0) {
    const mm = mm_alloc(owner);
    const a = yield* vm_mmap_hugetlbfs(mm, 0, len, prot, pgoff);
    assert.ok(a > 0, `mmap: ${a}`);
    return { mm, a };
  };

  it('two processes mapping the same file page with the same flags share the page-table page; other flags do not', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* map('P0', RW);
      const q = yield* map('P1', RW);
      const r = yield* map('P2', RO);
      assert.equal(yield* store(p.mm, p.a, 1), 0);
      assert.equal(yield* load(q.mm, q.a), 1);
      assert.equal(yield* load(r.mm, r.a), 1);
      const t = (x: { mm: typeof p.mm; a: number }) => x.mm.pgd[Math.floor(x.a / 16)];
      assert.ok(t(p) && t(p) === t(q), 'shared');
      assert.notEqual(t(r), t(p), 'read-only: its own page-table page');
      // The second file page was faulted by nobody: no page table yet, nothing shared.
      assert.equal(p.mm.pgd[Math.floor((p.a + H) / 16)], undefined);
      yield* mmput(q.mm);
      assert.equal(yield* load(p.mm, p.a), 1, 'unshared by the exit, still mapped for P0');
      yield* mmput(p.mm);
      yield* mmput(r.mm);
    });
  });

  it('madvise on hugetlb: DONTNEED zaps whole huge pages (the file keeps them), refuses an unaligned start; WIPEONFORK is refused; hints are no-ops', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* map('P0', RW);
      assert.equal(yield* store(p.mm, p.a, 7), 0);
      assert.equal(yield* store(p.mm, p.a + H, 8), 0);
      assert.equal(yield* do_madvise(p.mm, p.a + 1, H, 'DONTNEED'), EINVAL);
      assert.equal(yield* do_madvise(p.mm, p.a, H - 1, 'DONTNEED'), 0, 'less than a huge page: nothing');
      assert.equal(p.mm.pgd[Math.floor(p.a / 16)]!.ptes[0]!.kind, 'present');
      assert.equal(yield* do_madvise(p.mm, p.a, H, 'DONTNEED'), 0);
      assert.equal(p.mm.pgd[Math.floor(p.a / 16)]?.ptes[0]?.kind ?? 'none', 'none');
      assert.equal(p.mm.pgd[Math.floor((p.a + H) / 16)]!.ptes[0]!.kind, 'present', 'the next huge page stays');
      assert.equal(yield* load(p.mm, p.a), 7, 'faulted back from the file');
      for (const advice of ['PAGEOUT', 'COLD', 'WILLNEED'] as const) assert.equal(yield* do_madvise(p.mm, p.a, 2 * H, advice), 0);
      assert.equal(p.mm.pgd[Math.floor(p.a / 16)]!.ptes[0]!.kind, 'present');
      assert.equal(yield* do_madvise(p.mm, p.a, 2 * H, 'WIPEONFORK'), EINVAL);
      assert.equal(yield* do_madvise(p.mm, p.a, 2 * H, 'DONTFORK'), 0);
      assert.ok(p.mm.mmap.every((v) => v.vm_flags & 0x20000), 'DONTFORK set');
      yield* mmput(p.mm);
    });
  });

  it('a store through a huge PTE marks it and the page dirty; a read fault of a writable mapping maps it writable', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const p = yield* map('P0', RW, H);
      assert.equal(yield* load(p.mm, p.a + 3), 0);
      const pte = () => p.mm.pgd[Math.floor(p.a / 16)]!.ptes[0]! as { kind: string; write: boolean; dirty: boolean; pfn: number };
      assert.equal(pte().write, true);
      assert.equal(yield* store(p.mm, p.a + 3, 9), 0);
      assert.equal(pte().dirty, true);
      assert.equal(yield* load(p.mm, p.a + 3), 9);
      assert.equal(yield* load(p.mm, p.a + 2), 0, 'each small page of the huge page has its own words');
      yield* mmput(p.mm);
    });
  });
});
