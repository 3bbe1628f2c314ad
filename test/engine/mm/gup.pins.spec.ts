import assert from 'node:assert/strict';
import { valueOf } from '../../../engine/program/history.ts';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { before, interleaving, rec } from '../../helpers/scenario.ts';
import { currentStep, type KGen } from '../../../engine/index.ts';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { FOLL_FORCE, FOLL_GET, FOLL_PIN, FOLL_WRITE, __get_user_pages, get_user_pages_remote, gup_must_unshare, gup_put_folio, pin_user_pages, pin_user_pages_fast, try_grab_folio, unpin_user_page } from '../../../engine/mm/gup.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { MMF_HAS_PINNED, PG_anon_exclusive, mk_pte, type Folio, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from '../../../engine/mm/mmap_lock.ts';
import { folio_alloc } from '../../../engine/mm/page_alloc.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { RO, RW, folioAt, kernel, load, mapped, pteAt, run, store, violates } from '../harness.ts';

const mmap: Op = { op: 'mmap', region: 0, pages: 1, prot: 'rw' };
const w = (value: number, word = 0): Op => ({ op: 'write', region: 0, page: 0, word, value });
const pin = (write: boolean, fast = false): Op => ({ op: 'pin', pin: 0, region: 0, page: 0, write, fast, longterm: true });
const pinRead = (word = 0): Op => ({ op: 'pinRead', pin: 0, word });
const read = (word = 0): Op => ({ op: 'read', region: 0, page: 0, word });

/** Harmless ops that give the other process time to act. */
const pad = (n: number): Op[] => Array.from({ length: n }, (_, i): Op => ({ op: 'mmap', region: 1 + (i % 2), pages: 1, prot: 'rw' }));

/** Parent P0 with one thread, child P1 forked by it. */
const prog = (parent: Op[], child: Op[]): Program => ({ processes: [{ threads: [parent] }, { threads: [child] }] });

const EFAULT = -14;
const ENOMEM = -12;

function* pinned(mm: MmStruct, addr: number, flags: number, fast = false): KGen<Folio> {
  const r = fast ? yield* pin_user_pages_fast(mm, addr, flags) : yield* pin_user_pages(mm, addr, flags);
  assert.equal(typeof r, 'object', `pin failed: ${String(r)}`);
  return r as Folio;
}

describe('engine/mm/gup: reliable pins (seed 003 scenarios)', () => {
  it("COW after fork: the parent's later writes never reach the child", () => {
    const p = prog([mmap, w(1), { op: 'fork', child: 1 }, w(2)], [read()]);
    const r = interleaving(p, (x) => before(rec(x, 'P0.T0', 3), rec(x, 'P1.T0', 0)));
    assert.equal(valueOf(rec(r, 'P1.T0', 0)), 1);
  });

  for (const fast of [false, true]) {
    const how = fast ? 'GUP-fast' : 'GUP';
    it(`the child takes a R/O pin (${how}) and unmaps; the parent then writes: the pin does not see it`, () => {
      const p = prog([mmap, w(1), { op: 'fork', child: 1 }, ...pad(3), w(2)], [pin(false, fast), { op: 'munmap', region: 0, page: 0, pages: 1 }, ...pad(3), pinRead()]);
      const r = interleaving(p, (x) => rec(x, 'P1.T0', 0).result === 0 && before(rec(x, 'P1.T0', 1), rec(x, 'P0.T0', 6)) && before(rec(x, 'P0.T0', 6), rec(x, 'P1.T0', 5)));
      assert.equal(valueOf(rec(r, 'P1.T0', 5)), 1);
    });

    it(`a R/W pin (${how}) before fork; the parent writes after the fork: the pin sees the parent's writes`, () => {
      const p = prog([mmap, w(1), pin(true, fast), { op: 'fork', child: 1 }, w(2), pinRead()], [read(), w(3), read()]);
      const r = interleaving(p, (x) => rec(x, 'P0.T0', 2).result === 0);
      assert.equal(valueOf(rec(r, 'P0.T0', 5)), 2);
      // And the child has its own copy: it reads what was there at fork, then its own write.
      assert.deepEqual([valueOf(rec(r, 'P1.T0', 0)), valueOf(rec(r, 'P1.T0', 2))], [1, 3]);
    });

    it(`a R/O pin (${how}) on a page shared with a live child; the parent writes: the pin sees it`, () => {
      const p = prog([mmap, w(1), { op: 'fork', child: 1 }, pin(false, fast), w(2), pinRead()], [...pad(2), read(), read()]);
      // The child is alive (has not even read yet) when the parent pins.
      const r = interleaving(p, (x) => rec(x, 'P0.T0', 3).result === 0 && before(rec(x, 'P0.T0', 3), rec(x, 'P1.T0', 2)));
      assert.equal(valueOf(rec(r, 'P0.T0', 5)), 2);
      assert.equal(valueOf(rec(r, 'P1.T0', 3)), 1, 'the child must keep the fork-time value');
    });

    it(`the same R/O pin (${how}) after the child has exited: the pin sees the parent's write`, () => {
      const p = prog([mmap, w(1), { op: 'fork', child: 1 }, read(), pin(false, fast), w(2), pinRead()], [read()]);
      const r = interleaving(p, (x) => rec(x, 'P0.T0', 4).result === 0 && before(rec(x, 'P1.T0', 0), rec(x, 'P0.T0', 4)));
      assert.equal(valueOf(rec(r, 'P0.T0', 6)), 2);
    });
  }

  it('a R/O pin on an exclusive page mapped R/O by mprotect stays coherent after the write', () => {
    const p: Program = {
      processes: [
        {
          threads: [
            [
              mmap,
              w(1),
              { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'r' },
              pin(false),
              { op: 'mprotect', region: 0, page: 0, pages: 1, prot: 'rw' },
              w(2),
              pinRead(),
            ],
          ],
        },
      ],
    };
    const r = interleaving(p, () => true);
    assert.equal(rec(r, 'P0.T0', 3).result, 0);
    assert.equal(valueOf(rec(r, 'P0.T0', 6)), 2);
  });

  it('a device write through a R/W pin is what the process reads', () => {
    const p: Program = { processes: [{ threads: [[mmap, w(1), pin(true), { op: 'pinWrite', pin: 0, word: 1, value: 7 }, read(1)]] }] };
    const r = interleaving(p, () => true);
    assert.equal(valueOf(rec(r, 'P0.T0', 4)), 7);
  });

  it('pins of one process race its fork and its writes without any violation', () => {
    const p: Program = {
      processes: [
        { threads: [[mmap, w(1), pin(false, true), w(2), pinRead()], [{ op: 'fork', child: 1 }, w(3, 1)]] },
        { threads: [[read(), w(4), read()]] },
      ],
    };
    assert.throws(() => interleaving(p, () => false, 300), /no interleaving/);
  });
});

describe('engine/mm/gup: GUP and pins (gup.ts)', () => {
  it('try_grab_folio and gup_put_folio count references and pins', () => {
    run(function* () {
      const f = folio_alloc()!;
      assert.equal(try_grab_folio(f, FOLL_GET), true);
      assert.deepEqual([f._refcount, f._pincount], [2, 0]);
      assert.equal(try_grab_folio(f, FOLL_PIN), true);
      assert.deepEqual([f._refcount, f._pincount], [3, 1]);
      gup_put_folio(f, FOLL_PIN);
      gup_put_folio(f, FOLL_GET);
      assert.deepEqual([f._refcount, f._pincount], [1, 0]);
      f._refcount = 0;
      assert.equal(try_grab_folio(f, FOLL_PIN), false);
      assert.deepEqual([f._refcount, f._pincount], [0, 0]);
      f._refcount = 1;
      yield 'done';
    });
    violates(function* () {
      unpin_user_page(folio_alloc()!);
      yield 'x';
    }, 'kernel-bug', /gup_put_folio/);
  });

  it('gup_must_unshare: only a R/O pin of an anon page that is not exclusive', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      const f = folioAt(mm, addr);
      assert.equal(gup_must_unshare(FOLL_PIN, f), false, 'exclusive');
      f.flags &= ~PG_anon_exclusive;
      assert.equal(gup_must_unshare(FOLL_PIN, f), true);
      assert.equal(gup_must_unshare(FOLL_PIN | FOLL_WRITE, f), false);
      assert.equal(gup_must_unshare(FOLL_GET, f), false);
      assert.equal(gup_must_unshare(FOLL_PIN, folio_alloc()!), false, 'not anon');
      f.flags |= PG_anon_exclusive;
    });
  });

  it('a R/W pin faults the page in writable and exclusive, and marks the mm as having pinned', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      assert.equal(mm.flags & MMF_HAS_PINNED, 0);
      const f = yield* pinned(mm, addr, FOLL_WRITE);
      assert.equal(mm.flags & MMF_HAS_PINNED, MMF_HAS_PINNED);
      assert.equal(folioAt(mm, addr), f);
      assert.deepEqual([f._pincount, f._refcount, PageAnonExclusive(f)], [1, 2, true]);
      assert.deepEqual(pteAt(mm, addr), mk_pte(f.pfn, true, true));
      unpin_user_page(f);
      assert.deepEqual([f._pincount, f._refcount], [0, 1]);
      assert.ok(!mm.mmap_lock.isLocked());
    });
  });

  it('a R/O pin of a page shared with a child unshares it first: the pinned page is mapped, exclusive, read-only', () => {
    for (const fast of [false, true]) {
      run(function* () {
        const { mm, addr } = yield* mapped(1);
        yield* store(mm, addr, 5);
        const child = yield* dup_mm(mm, 'P1');
        const shared = folioAt(mm, addr);
        const f = yield* pinned(mm, addr, 0, fast);
        assert.notEqual(f, shared);
        assert.equal(folioAt(mm, addr), f);
        assert.ok(PageAnonExclusive(f));
        assert.deepEqual(f.data, [5, 0]);
        assert.equal((pteAt(mm, addr) as { write: boolean }).write, false);
        assert.equal(folioAt(child as MmStruct, addr), shared);
        // A second R/O pin of the now exclusive page takes it as it is.
        const g = yield* pinned(mm, addr, 0, fast);
        assert.equal(g, f);
        assert.equal(f._pincount, 2);
        unpin_user_page(f);
        unpin_user_page(g);
        yield* mmput(child as MmStruct);
      });
    }
  });

  it('a R/W pin of a shared page breaks COW; the child keeps the old page', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      const shared = folioAt(mm, addr);
      const f = yield* pinned(mm, addr, FOLL_WRITE, true);
      assert.notEqual(f, shared);
      assert.deepEqual(pteAt(mm, addr), mk_pte(f.pfn, true, true));
      assert.equal(folioAt(child, addr), shared);
      unpin_user_page(f);
      yield* mmput(child);
    });
  });

  it('GUP-fast takes a present, eligible page without mmap_lock, and falls back to the slow path otherwise', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      const f = yield* pinned(mm, addr, FOLL_WRITE, true);
      assert.equal(f, folioAt(mm, addr));
      // Not present: the slow path faults it in.
      const g = yield* pinned(mm, addr + 1, 0, true);
      assert.equal(g, folioAt(mm, addr + 1));
      assert.equal(yield* pin_user_pages_fast(mm, addr + 5, 0), EFAULT);
      unpin_user_page(f);
      unpin_user_page(g);
    });
  });

  it('errors: no VMA, write to a read-only mapping, read of PROT_NONE; FOLL_FORCE overrides what may be forced', () => {
    run(function* () {
      const rw = yield* mapped(1);
      assert.equal(yield* pin_user_pages(rw.mm, rw.addr + 1, 0), EFAULT);
      const ro = yield* mapped(1, RO, 'P1');
      assert.equal(yield* pin_user_pages(ro.mm, ro.addr, FOLL_WRITE), EFAULT);
      const none = yield* mapped(1, 0, 'P2');
      assert.equal(yield* pin_user_pages(none.mm, none.addr, 0), EFAULT);
      // FOLL_FORCE: a read of PROT_NONE (VM_MAYREAD) and a write to a private read-only mapping (COW).
      yield* mmap_read_lock(none.mm);
      const n = yield* __get_user_pages(none.mm, none.addr, FOLL_GET | FOLL_FORCE);
      yield* mmap_read_unlock(none.mm);
      assert.equal(typeof n, 'object');
      gup_put_folio(n as Folio, FOLL_GET);
      yield* load(ro.mm, ro.addr);
      const before = folioAt(ro.mm, ro.addr);
      const child = (yield* dup_mm(ro.mm, 'P3')) as MmStruct;
      yield* mmap_read_lock(ro.mm);
      const w = yield* __get_user_pages(ro.mm, ro.addr, FOLL_GET | FOLL_FORCE | FOLL_WRITE);
      yield* mmap_read_unlock(ro.mm);
      assert.equal(typeof w, 'object');
      assert.notEqual(w, before, 'a forced write breaks COW');
      assert.equal(folioAt(ro.mm, ro.addr), w);
      assert.equal((pteAt(ro.mm, ro.addr) as { write: boolean }).write, false, 'the mapping stays read-only');
      gup_put_folio(w as Folio, FOLL_GET);
      yield* mmput(child);
      // Not a COW mapping: a forced write is refused.
      ro.mm.mmap[0]!.vm_flags &= ~0x20; // VM_MAYWRITE
      yield* mmap_read_lock(ro.mm);
      assert.equal(yield* __get_user_pages(ro.mm, ro.addr, FOLL_GET | FOLL_FORCE | FOLL_WRITE), EFAULT);
      yield* mmap_read_unlock(ro.mm);
      none.mm.mmap[0]!.vm_flags &= ~0x10; // VM_MAYREAD
      yield* mmap_read_lock(none.mm);
      assert.equal(yield* __get_user_pages(none.mm, none.addr, FOLL_GET | FOLL_FORCE), EFAULT);
      yield* mmap_read_unlock(none.mm);
    });
  });

  it('a forced write follows a R/O PTE only for an exclusive anon page of a private, may-write, read-only mapping', () => {
    run(function* () {
      const ro = yield* mapped(1, RO);
      yield* load(ro.mm, ro.addr);
      const f = folioAt(ro.mm, ro.addr);
      yield* mmap_read_lock(ro.mm);
      const w = yield* __get_user_pages(ro.mm, ro.addr, FOLL_GET | FOLL_FORCE | FOLL_WRITE);
      yield* mmap_read_unlock(ro.mm);
      assert.equal(w, f, 'exclusive: followed as it is');
      gup_put_folio(f, FOLL_GET);
    });
  });

  it('get_user_pages_remote returns the page with a reference, or undefined on error', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* mmap_read_lock(mm);
      const f = yield* get_user_pages_remote(mm, addr, FOLL_WRITE);
      assert.ok(f);
      assert.deepEqual([f._refcount, f._pincount], [2, 0]);
      assert.equal(yield* get_user_pages_remote(mm, addr + 1, 0), undefined);
      yield* mmap_read_unlock(mm);
      gup_put_folio(f, FOLL_GET);
    });
  });

  it('out of memory while faulting for a pin: ENOMEM', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      assert.equal(yield* pin_user_pages(mm, addr + 1, FOLL_WRITE), ENOMEM);
      assert.equal(yield* pin_user_pages_fast(mm, addr + 1, 0), ENOMEM);
      assert.equal(machine().mem.nr_free(), 0);
    }, { frames: 1 });
  });

  it('__get_user_pages asserts mmap_lock', () => {
    violates(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* __get_user_pages(mm, addr, FOLL_GET);
    }, 'kernel-bug', /__get_user_pages/);
  });
});


describe('engine/mm/gup: GUP-fast is lockless', () => {
  it('pins a present page while another task holds mmap_lock for write; the slow path has to wait', () => {
    for (const [flags, prot, fastOk] of [
      [FOLL_WRITE, RW, true],
      [0, RW, true],
      [0, RO, true],
      [FOLL_WRITE, RO, false], // a R/W pin of a read-only PTE needs the slow path (and fails there)
    ] as const) {
      const order: string[] = [];
      let mm: MmStruct | undefined;
      let addr = 0;
      let holdAt = -1;
      const body = (schedule: { step: number; task: number }[]) =>
        kernel(
          {
            T0: function* () {
              const m = yield* mapped(1, prot);
              mm = m.mm;
              addr = m.addr;
              yield* load(mm, addr);
              yield* mmap_write_lock(mm);
              holdAt = currentStep();
              yield 'holding mmap_lock for write';
              order.push('T0 unlocks');
              yield* mmap_write_unlock(mm);
            },
            T1: function* () {
              const r = yield* pin_user_pages_fast(mm!, addr, flags);
              order.push(typeof r === 'object' ? 'T1 pinned' : `T1 got ${r}`);
              if (typeof r === 'object') unpin_user_page(r);
            },
          },
          { schedule },
        );
      body([]);
      order.length = 0;
      const r = body([{ step: holdAt + 1, task: 1 }]);
      assert.equal(r.violation, undefined, r.violation?.message);
      if (fastOk) assert.deepEqual(order, ['T1 pinned', 'T0 unlocks'], `flags ${flags} prot ${prot}`);
      else assert.equal(order[0], 'T0 unlocks', `flags ${flags} prot ${prot}: the fast path must refuse`);
    }
  });
});
