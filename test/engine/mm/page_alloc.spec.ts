import assert from 'node:assert/strict';
import { Machine, machine } from '../../../engine/mm/machine.ts';
import { kfree, kobject_freed } from '../../../engine/mm/kasan.ts';
import { Folio, PG_anon, PG_anon_exclusive, PG_dirty } from '../../../engine/mm/mm_types.ts';
import { PhysMem, folio_alloc, folio_get, folio_put, folio_try_get, pfn_folio } from '../../../engine/mm/page_alloc.ts';
import { bit_lock } from '../../../engine/locking/bitlock.ts';
import { this_kernel } from '../../../engine/index.ts';
import { run, violates } from '../harness.ts';

describe('engine/mm/page_alloc: physical memory and KASAN (page_alloc, kasan, machine)', () => {
  it('frames go out lowest first and come back in order', () => {
    const mem = new PhysMem(5);
    assert.equal(mem.nr_free(), 5);
    assert.deepEqual([mem.take(), mem.take(), mem.take()], [0, 1, 2]);
    assert.equal(mem.nr_free(), 2);
    mem.give(1);
    mem.give(0);
    mem.give(2);
    assert.deepEqual([mem.take(), mem.take(), mem.take(), mem.take(), mem.take(), mem.take()], [0, 1, 2, 3, 4, undefined]);
    assert.equal(mem.nr_free(), 0);
    assert.equal(new PhysMem().nr_frames, 24);
    assert.equal(new Machine().mem.nr_frames, 24);
    assert.deepEqual(new Machine().mmlist, []);
  });

  it('there is no machine outside a running Kernel', () => {
    assert.throws(() => machine(), /no Kernel is running/);
  });

  it('folio_alloc: a fresh zeroed folio with one reference, in its frame; undefined when memory is out', () => {
    run(function* () {
      const a = folio_alloc()!;
      const b = folio_alloc()!;
      assert.deepEqual([a.pfn, b.pfn, a._refcount, a._mapcount, a._pincount, a.flags], [0, 1, 1, 0, 0, 0]);
      assert.deepEqual(a.data, [0, 0]);
      assert.equal(pfn_folio(1), b);
      assert.equal(folio_alloc(), undefined);
      folio_put(a);
      assert.ok(kobject_freed(a));
      assert.equal(machine().mem.nr_free(), 1);
      const c = folio_alloc()!;
      assert.equal(c.pfn, 0, 'the freed frame is handed out again');
      yield 'done';
    }, { frames: 2 });
  });

  it('references: get/try_get/put count; the last put frees the frame and drops the anon flags', () => {
    run(function* () {
      const f = folio_alloc()!;
      folio_get(f);
      assert.equal(f._refcount, 2);
      assert.equal(folio_try_get(f), true);
      assert.equal(f._refcount, 3);
      f.flags |= PG_anon | PG_anon_exclusive | PG_dirty;
      folio_put(f);
      folio_put(f);
      assert.equal(f._refcount, 1);
      assert.ok(!kobject_freed(f));
      folio_put(f);
      assert.ok(kobject_freed(f));
      assert.equal(machine().mem.nr_free(), 4);
      const g = new Folio(9);
      g._refcount = 0;
      assert.equal(folio_try_get(g), false);
      assert.equal(g._refcount, 0);
      yield 'done';
    }, { frames: 4 });
  });

  it('BUG_ON: get or put of a folio without references, freeing one still mapped, locked or pinned', () => {
    violates(function* () {
      const f = folio_alloc()!;
      f._refcount = 0;
      folio_get(f);
      yield 'x';
    }, 'kernel-bug', /folio_get/);
    violates(function* () {
      const f = folio_alloc()!;
      f._refcount = 0;
      folio_put(f);
      yield 'x';
    }, 'kernel-bug', /folio_put/);
    for (const [what, re] of [
      ['mapped', /__folio_put.*mapped/],
      ['pinned', /__folio_put.*pinned/],
      ['locked', /__folio_put.*locked/],
    ] as const) {
      violates(function* () {
        const f = folio_alloc()!;
        if (what === 'mapped') f._mapcount = 1;
        if (what === 'pinned') f._pincount = 1;
        if (what === 'locked') yield* bit_lock(f.lock);
        folio_put(f);
      }, 'kernel-bug', re);
    }
    violates(function* () {
      pfn_folio(3);
      yield 'x';
    }, 'kernel-bug', /pfn_folio\(3\)/);
  });

  it('KASAN: a freed object is poisoned: reads, writes and a second free are memory-safety violations', () => {
    const uaf = violates(function* () {
      const f = folio_alloc()!;
      folio_put(f);
      yield 'after free';
      return f._refcount;
    }, 'memory-safety', /use-after-free: read of folio#\d+\._refcount at T0 step \d+ at "after free"; allocated at T0 step 0 at "start", freed at T0 step 0 at "start"$/);
    assert.equal(uaf.task, 'T0');
    violates(function* () {
      const f = folio_alloc()!;
      folio_put(f);
      f.index = 3;
      yield 'x';
    }, 'memory-safety', /use-after-free: write of folio#\d+\.index/);
    violates(function* () {
      const f = folio_alloc()!;
      kfree(f);
      kfree(f);
      yield 'x';
    }, 'memory-safety', /double-free of folio#\d+: allocated at T0 step 0 at "start", first freed at T0 step 0 at "start", freed again at T0 step 0 at "start"$/);
  });

  it('KASAN: objects are numbered per execution and counted live by kind', () => {
    let ids: string[] = [];
    const live: (number | undefined)[] = [];
    run(function* () {
      const ex = this_kernel().kasan;
      const a = folio_alloc()!;
      const b = folio_alloc()!;
      ids = [a.kname, b.kname];
      live.push(ex.live.get('folio'));
      folio_put(a);
      live.push(ex.live.get('folio'));
      yield 'freed one';
      folio_put(b);
      live.push(ex.live.get('folio'));
    });
    assert.deepEqual(ids, ['folio#1', 'folio#2']);
    assert.deepEqual(live, [2, 1, 0]);
    // Every object belongs to one run's Kernel: none can be made outside one, so no id leaks between runs.
    assert.throws(() => new Folio(0), /no Kernel is running/);
  });
});
