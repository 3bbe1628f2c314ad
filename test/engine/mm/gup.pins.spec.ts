import assert from 'node:assert/strict';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { FOLL_GET, FOLL_PIN, FOLL_WRITE, gup_must_unshare, gup_put_folio, try_grab_folio, unpin_user_page } from '../../../engine/mm/gup.ts';
import { MMF_HAS_PINNED, PG_anon_exclusive, mk_pte, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { folio_alloc } from '../../../engine/mm/page_alloc.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { folioAt, kernel, mapped, pteAt, run, store, violates } from '../harness.ts';
import { pin, read, pinned } from './gup.setup.ts';

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
      assert.equal(gup_must_unshare(undefined, FOLL_PIN, f), false, 'exclusive');
      f.flags &= ~PG_anon_exclusive;
      assert.equal(gup_must_unshare(undefined, FOLL_PIN, f), true);
      assert.equal(gup_must_unshare(undefined, FOLL_PIN | FOLL_WRITE, f), false);
      assert.equal(gup_must_unshare(undefined, FOLL_GET, f), false);
      assert.equal(gup_must_unshare(undefined, FOLL_PIN, folio_alloc()!), false, 'not anon');
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
});
