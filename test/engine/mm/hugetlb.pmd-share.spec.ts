import assert from 'node:assert/strict';
import { Pct, RandomWalk, type Strategy } from '../../../engine/index.ts';
import { HPAGE_NR_PAGES } from '../../../engine/mm/hugetlb.ts';
import { runProgram, type RunContext } from '../../../engine/program/executor.ts';
import { valueOf, type OpRecord } from '../../../engine/program/history.ts';
import type { Program } from '../../../engine/program/ops.ts';
import { hooksFor, properties } from '../../../properties/index.ts';
import { describeViolation, runChecked } from '../../helpers/run.ts';
import { hugetlbfs_create, vm_mmap_hugetlbfs } from '../../../engine/fs/hugetlbfs.ts';
import { mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { RO, RW, kernel, load, run, store } from '../harness.ts';
import { map, rd, wr, slotOf, H, kind, present, EINVAL } from './hugetlb.setup.ts';

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
