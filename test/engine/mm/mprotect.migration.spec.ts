import assert from 'node:assert/strict';
import { mk_pte, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { RO, RW, folioAt, kernel, load, mapped, pteAt, run, store } from '../harness.ts';
import { EFAULT, NONE, present, migrate } from './mprotect.setup.ts';

describe('engine/mm/mprotect: mprotect(PROT_NONE) and protnone PTEs (mprotect.ts, fault.ts)', () => {
  it('migration: a protnone PTE comes back protnone on the new page (remove_migration_pte)', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      const f = folioAt(mm, addr);
      assert.equal(yield* migrate(f), true);
      const g = folioAt(mm, addr);
      assert.notEqual(g, f);
      assert.deepEqual(pteAt(mm, addr), mk_pte(g.pfn, false, false, true));
      assert.ok(PageAnonExclusive(g), 'the read-exclusive entry kept exclusivity');
      assert.equal(yield* load(mm, addr), EFAULT);
      assert.equal(yield* sys_mprotect(mm, addr, 1, RW), 0);
      assert.deepEqual([yield* load(mm, addr), present(mm, addr).write], [5, true]);
    });
  });

  it('mprotect read-only meets a writable migration entry: it becomes readable-exclusive, and the new page comes back read-only', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      const t = mm.pgd[Math.floor(addr / 16)]!;
      // What try_to_migrate_one() leaves for a writable exclusive page.
      t.ptes[addr % 16] = { kind: 'migration', pfn: f.pfn, mode: 'write' };
      assert.equal(yield* sys_mprotect(mm, addr, 1, RO), 0);
      assert.deepEqual(pteAt(mm, addr), { kind: 'migration', pfn: f.pfn, mode: 'read-exclusive' });
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      assert.deepEqual(pteAt(mm, addr), { kind: 'migration', pfn: f.pfn, mode: 'read-exclusive' }, 'a read entry stays');
      t.ptes[addr % 16] = mk_pte(f.pfn, true, true); // (put back by hand: no migration is running)
    });
  });

  it('mprotect(PROT_READ) racing a migration of a written page: the new page never comes back writable', () => {
    let met = 0;
    for (let k = 0; k < 80; k++) {
      let m: { mm: MmStruct; addr: number } | undefined;
      let done = false;
      const r = kernel(
        {
          T0: function* () {
            m = yield* mapped(1);
            // T1's mprotect may come first: then there is nothing to migrate.
            if ((yield* store(m.mm, m.addr, 5)) === 0) yield* migrate(folioAt(m.mm, m.addr));
          },
          T1: function* () {
            if (!m) return;
            const p = pteAt(m.mm, m.addr);
            if (p?.kind === 'migration' && p.mode === 'write') met++;
            assert.equal(yield* sys_mprotect(m.mm, m.addr, 1, RO), 0);
            done = true;
          },
        },
        { schedule: [{ step: k, task: 1 }] },
      );
      assert.equal(r.violation, undefined, r.violation?.message);
      // Too early (no mapping yet): T1 did nothing; before the store: no page.
      const p = m && pteAt(m.mm, m.addr);
      if (done && p?.kind === 'present') assert.equal(p.write, false, `switch at step ${k}: writable after mprotect(PROT_READ)`);
    }
    assert.ok(met > 0, 'no schedule had mprotect meet a writable migration entry');
  });
});
