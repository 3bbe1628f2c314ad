import assert from 'node:assert/strict';
import { type KGen, currentStep } from '../../../engine/index.ts';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { handle_mm_fault } from '../../../engine/mm/memory.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { FAULT_FLAG_UNSHARE, FAULT_FLAG_WRITE, MMF_HAS_PINNED, PG_anon, PG_anon_exclusive, PG_dirty, VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_SHARED, mk_pte, type MmStruct, type Folio, type Pte, PG_swapcache } from '../../../engine/mm/mm_types.ts';
import { vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { mmap_read_lock, mmap_read_unlock } from '../../../engine/mm/mmap_lock.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { pmd_index, pte_offset_map_lock, set_pte_at } from '../../../engine/mm/pgtable.ts';
import { PageAnonExclusive } from '../../../engine/mm/rmap.ts';
import { RO, RW, folioAt, load, mapped, pteAt, run, store, kernel, violates } from '../harness.ts';
import { bit_lock, bit_unlock } from '../../../engine/locking/bitlock.ts';
import { spin_unlock } from '../../../engine/locking/spinlock.ts';
import { folio_get, folio_put } from '../../../engine/mm/page_alloc.ts';
import { swap_count, sys_swapon } from '../../../engine/mm/swapfile.ts';

const EFAULT = -14;
const ENOMEM = -12;

function* fork(mm: MmStruct): KGen<MmStruct> {
  const child = yield* dup_mm(mm, 'P1');
  assert.equal(typeof child, 'object', `fork failed: ${String(child)}`);
  return child as MmStruct;
}

/** What try_to_migrate() leaves: the folio locked, a migration entry instead of the PTE, one mapping less. */
function* migrateOut(mm: MmStruct, addr: number, mode: 'read' | 'read-exclusive' | 'write'): KGen<Folio> {
  const f = folioAt(mm, addr);
  yield* bit_lock(f.lock);
  const t = (yield* pte_offset_map_lock(mm, addr))!;
  set_pte_at(t, addr, { kind: 'migration', pfn: f.pfn, mode });
  f._mapcount--;
  yield* spin_unlock(t.ptl);
  return f;
}

function* migrateBack(mm: MmStruct, addr: number, f: Folio, pte: Pte): KGen {
  const t = (yield* pte_offset_map_lock(mm, addr))!;
  set_pte_at(t, addr, pte);
  f._mapcount++;
  yield* spin_unlock(t.ptl);
  yield* bit_unlock(f.lock);
}

/**
 * Migration entries: nothing creates them yet (no migration op), so the paths
 * that meet one (a fault waits, fork copies it, zap drops it) are driven from
 * here with entries planted the way try_to_migrate() would leave them.
 */

function* swapon(pages: number): KGen<number> {
  const t = yield* sys_swapon(pages);
  assert.ok(t >= 0, `swapon: ${t}`);
  return t;
}

describe('engine/mm/memory: faults, COW and fork (memory.ts, fault.ts)', () => {
  it('a read fault in a rw mapping maps a zeroed, writable, exclusive anon page at its linear index', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      assert.equal(yield* load(mm, addr + 1), 0);
      assert.deepEqual(pteAt(mm, addr + 1), mk_pte(folioAt(mm, addr + 1).pfn, true, true));
      const f = folioAt(mm, addr + 1);
      const vma = mm.mmap[0]!;
      assert.equal(f.flags & (PG_anon | PG_anon_exclusive), PG_anon | PG_anon_exclusive);
      assert.deepEqual([f._mapcount, f._refcount, f.index, f.mapping], [1, 1, vma.vm_pgoff + 1, vma.anon_vma]);
      assert.ok(vma.anon_vma);
      assert.equal(pteAt(mm, addr), mm.pgd[pmd_index(addr)]!.ptes[addr % 16]);
      assert.equal(pteAt(mm, addr)!.kind, 'none', 'only the touched page is faulted in');
    });
  });

  it('a read fault in a read-only mapping maps the page read-only and clean; writes fault with EFAULT', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2, RO);
      assert.equal(yield* load(mm, addr), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, false, false));
      assert.equal(yield* store(mm, addr, 5), EFAULT);
      assert.equal(yield* store(mm, addr + 1, 5), EFAULT);
      assert.equal(pteAt(mm, addr + 1)!.kind, 'none');
      assert.equal(yield* load(mm, addr), 0);
    });
  });

  it('accesses outside any mapping, or to PROT_NONE, are EFAULT', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2, 0);
      assert.equal(yield* load(mm, addr), EFAULT);
      assert.equal(yield* store(mm, addr, 1), EFAULT);
      assert.equal(yield* load(mm, addr + 2), EFAULT, 'above the mapping');
      assert.equal(yield* load(mm, addr - 1), EFAULT, 'just below the mapping: find_vma finds it, but it starts higher');
      assert.equal(yield* load(mm, -1), EFAULT);
    });
  });

  it('a store marks the page and the PTE dirty, also through a writable clean PTE', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1, RO);
      assert.equal(yield* load(mm, addr), 0);
      assert.equal(yield* sys_mprotect(mm, addr, 1, RW), 0);
      // An exclusive page is made writable in place, still clean.
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, true, false));
      assert.equal(folioAt(mm, addr).flags & PG_dirty, 0);
      assert.equal(yield* store(mm, addr, 9), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, true, true));
      assert.equal(folioAt(mm, addr).flags & PG_dirty, PG_dirty);
      assert.equal(yield* load(mm, addr), 9);
    });
  });

  it('a write fault on a present writable clean PTE (a raced fault) just marks it dirty', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1, RO);
      yield* load(mm, addr);
      yield* sys_mprotect(mm, addr, 1, RW);
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, FAULT_FLAG_WRITE), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, true, true));
      // A read fault on it changes nothing.
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, 0), 0);
      assert.deepEqual(pteAt(mm, addr), mk_pte(folioAt(mm, addr).pfn, true, true));
      yield* mmap_read_unlock(mm);
    });
  });

  it('a read fault on a read-only PTE of a rw mapping leaves it read-only', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      const child = yield* fork(mm);
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, 0), 0);
      yield* mmap_read_unlock(mm);
      assert.equal((pteAt(mm, addr) as { write: boolean }).write, false);
      yield* mmput(child);
    });
  });

  it('a shared mapping has no anonymous pages: SIGBUS', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      mm.mmap[0]!.vm_flags |= VM_SHARED;
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, 0), VM_FAULT_SIGBUS);
      yield* mmap_read_unlock(mm);
      assert.equal(yield* load(mm, addr), EFAULT);
    });
  });

  it('out of memory: the faulting access gets ENOMEM and nothing is mapped', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      // One frame: the page table does not take one; the first page does.
      assert.equal(yield* store(mm, addr, 1), 0);
      assert.equal(yield* store(mm, addr + 1, 2), ENOMEM);
      assert.equal(pteAt(mm, addr + 1)!.kind, 'none');
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr + 2, 0), VM_FAULT_OOM);
      yield* mmap_read_unlock(mm);
    }, { frames: 1 });
  });

  it('fork shares anon pages: same pfn, write-protected on both sides, no longer exclusive', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 7);
      const seq = mm.write_protect_seq.sequence;
      const child = yield* fork(mm);
      assert.equal(mm.write_protect_seq.sequence, seq + 2, 'fork wrote its section of write_protect_seq');
      const f = folioAt(mm, addr);
      assert.deepEqual(pteAt(mm, addr), mk_pte(f.pfn, false, true));
      assert.deepEqual(pteAt(child, addr), mk_pte(f.pfn, false, true));
      assert.deepEqual([f._mapcount, f._refcount, PageAnonExclusive(f)], [2, 2, false]);
      assert.equal(pteAt(child, addr + 1), pteAt(mm, addr + 1), 'untouched pages stay none');
      assert.equal(machine().mem.nr_free(), 16 - 1, 'nothing copied');
      // The parent writes: COW gives it a fresh exclusive copy; the child keeps the old page.
      assert.equal(yield* store(mm, addr, 8, 1), 0);
      const g = folioAt(mm, addr);
      assert.notEqual(g.pfn, f.pfn);
      assert.deepEqual(g.data, [7, 8]);
      assert.ok(PageAnonExclusive(g));
      assert.deepEqual(pteAt(mm, addr), mk_pte(g.pfn, true, true));
      assert.deepEqual([f._mapcount, f._refcount], [1, 1]);
      assert.deepEqual(f.data, [7, 0]);
      assert.equal(yield* load(child, addr, 1), 0);
      // The child is now the only user of the old page: its write reuses it.
      assert.equal(yield* store(child, addr, 9), 0);
      assert.equal(folioAt(child, addr), f);
      assert.ok(PageAnonExclusive(f));
      assert.equal(f.mapping, child.mmap[0]!.anon_vma, 'folio_move_anon_rmap: the reused page moves to the child\'s anon_vma');
      assert.deepEqual(pteAt(child, addr), mk_pte(f.pfn, true, true));
      yield* mmput(child);
      assert.equal(machine().mem.nr_free(), 16 - 1);
    });
  });

  it('a read-only mapping is shared at fork without changing its PTEs; the page is reused after the child goes', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1, RO);
      yield* load(mm, addr);
      const before = pteAt(mm, addr);
      const child = yield* fork(mm);
      assert.equal(pteAt(mm, addr), before);
      assert.deepEqual(pteAt(child, addr), before);
      yield* mmput(child);
      yield* sys_mprotect(mm, addr, 1, RW);
      // Not exclusive any more: mprotect may not make it writable; the write fault reuses it.
      assert.equal((pteAt(mm, addr) as { write: boolean }).write, false);
      const f = folioAt(mm, addr);
      assert.equal(yield* store(mm, addr, 3), 0);
      assert.equal(folioAt(mm, addr), f);
    });
  });

  it('COW with a third reference copies even when this mapping is the last', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 4);
      const child = yield* fork(mm);
      const f = folioAt(mm, addr);
      f._refcount++; // somebody (GUP) holds a reference
      yield* mmput(child);
      assert.deepEqual([f._mapcount, f._refcount], [1, 2]);
      assert.equal(yield* store(mm, addr, 5), 0);
      assert.notEqual(folioAt(mm, addr), f, 'not reused: another reference exists');
      assert.deepEqual(f.data, [4, 0]);
      f._refcount--;
    });
  });

  it('an unshare fault on a shared page copies it and maps the copy read-only; on an exclusive page it does nothing', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 4);
      const child = yield* fork(mm);
      const f = folioAt(mm, addr);
      yield* mmap_read_lock(mm);
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, FAULT_FLAG_UNSHARE), 0);
      const g = folioAt(mm, addr);
      assert.notEqual(g, f);
      assert.ok(PageAnonExclusive(g));
      assert.deepEqual(pteAt(mm, addr), mk_pte(g.pfn, false, false));
      assert.equal(yield* handle_mm_fault(mm.mmap[0]!, addr, FAULT_FLAG_UNSHARE), 0);
      assert.equal(folioAt(mm, addr), g);
      assert.deepEqual(pteAt(mm, addr), mk_pte(g.pfn, false, false));
      yield* mmap_read_unlock(mm);
      // The child, now alone on f: unshare reuses it, marking it exclusive, and leaves the PTE read-only.
      yield* mmap_read_lock(child);
      assert.equal(yield* handle_mm_fault(child.mmap[0]!, addr, FAULT_FLAG_UNSHARE), 0);
      yield* mmap_read_unlock(child);
      assert.equal(folioAt(child, addr), f);
      assert.ok(PageAnonExclusive(f));
      assert.equal((pteAt(child, addr) as { write: boolean }).write, false);
      yield* mmput(child);
    });
  });

  it('COW out of memory: the write gets ENOMEM and the shared page stays mapped', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 4);
      const child = yield* fork(mm);
      const f = folioAt(mm, addr);
      assert.equal(yield* store(mm, addr, 5), ENOMEM);
      assert.equal(folioAt(mm, addr), f);
      assert.deepEqual([f._refcount, f._mapcount], [2, 2]);
      yield* mmput(child);
    }, { frames: 1 });
  });

  it('fork copies a pinned page instead of sharing it; the copy is writable only in a writable mapping', () => {
    for (const prot of [RW, RO]) {
      run(function* () {
        const { mm, addr } = yield* mapped(2, prot);
        if (prot === RW) yield* store(mm, addr, 6);
        else yield* load(mm, addr);
        yield* load(mm, addr + 1);
        const f = folioAt(mm, addr);
        mm.flags |= MMF_HAS_PINNED;
        f._pincount++;
        f._refcount++;
        const child = yield* fork(mm);
        const c = folioAt(child, addr);
        assert.notEqual(c, f, 'copied');
        assert.deepEqual(c.data, f.data);
        assert.ok(PageAnonExclusive(c) && PageAnonExclusive(f));
        assert.deepEqual(pteAt(child, addr), mk_pte(c.pfn, prot === RW, true));
        assert.equal(pteAt(mm, addr), pteAt(mm, addr), 'the parent keeps its PTE');
        assert.equal((pteAt(mm, addr) as { write: boolean }).write, prot === RW);
        assert.deepEqual([f._mapcount, c._mapcount, c._refcount], [1, 1, 1]);
        assert.equal(c.mapping, child.mmap[0]!.anon_vma);
        // The unpinned neighbour is shared as usual.
        assert.equal(folioAt(child, addr + 1), folioAt(mm, addr + 1));
        yield* mmput(child);
        f._pincount--;
        f._refcount--;
      });
    }
  });

  it('a pinned page in an mm that never pinned (no MMF_HAS_PINNED) is shared', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 6);
      const f = folioAt(mm, addr);
      f._pincount++;
      f._refcount++;
      const child = yield* fork(mm);
      assert.equal(folioAt(child, addr), f);
      yield* mmput(child);
      f._pincount--;
      f._refcount--;
    });
  });

  it('fork out of memory for the copy of a pinned page fails with ENOMEM and leaks nothing', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 6);
      const f = folioAt(mm, addr);
      mm.flags |= MMF_HAS_PINNED;
      f._pincount++;
      f._refcount++;
      const mms = machine().mms.length;
      assert.equal(yield* dup_mm(mm, 'P1'), ENOMEM);
      assert.equal(machine().mms.length, mms, 'the half-built child is gone');
      assert.equal(machine().mem.nr_free(), 0);
      assert.deepEqual([f._mapcount, f._refcount], [1, 2]);
      f._pincount--;
      f._refcount--;
    }, { frames: 1 });
  });

  it('WIPEONFORK: the child gets the VMA without pages or anon_vma; DONTFORK: no VMA at all', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(3);
      for (let i = 0; i < 3; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* do_madvise(mm, addr, 1, 'WIPEONFORK'), 0);
      assert.equal(yield* do_madvise(mm, addr + 2, 1, 'DONTFORK'), 0);
      const child = yield* fork(mm);
      assert.equal(child.mmap.length, 2);
      assert.equal(child.mmap[0]!.anon_vma, undefined);
      assert.equal(pteAt(child, addr)!.kind, 'none');
      assert.equal(folioAt(child, addr + 1), folioAt(mm, addr + 1));
      assert.equal(yield* load(child, addr), 0);
      assert.equal(yield* load(child, addr + 2), EFAULT);
      assert.equal(yield* load(mm, addr), 1);
      yield* mmput(child);
    });
  });

  it('fork does not copy page tables of a VMA that never had a page', () => {
    run(function* () {
      const a = yield* mapped(2);
      yield* vm_mmap(a.mm, 2, RO); // read-only: no merge with a's VMA
      yield* store(a.mm, a.addr, 1);
      const child = yield* fork(a.mm);
      assert.equal(child.mmap.length, 2);
      assert.equal(child.mmap[0]!.anon_vma, undefined);
      assert.ok(child.pgd[pmd_index(a.addr)], 'the faulted VMA was copied');
      yield* mmput(child);
    });
  });

  it('DONTNEED zaps just the range: pages freed, PTEs none, the page table stays', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      const free = machine().mem.nr_free();
      assert.equal(yield* do_madvise(mm, addr + 1, 2, 'DONTNEED'), 0);
      assert.equal(machine().mem.nr_free(), free + 2);
      assert.deepEqual([0, 1, 2, 3].map((i) => pteAt(mm, addr + i)!.kind), ['present', 'none', 'none', 'present']);
      assert.deepEqual([yield* load(mm, addr), yield* load(mm, addr + 1), yield* load(mm, addr + 3)], [1, 0, 4]);
    });
  });

  it('munmap frees a page table only when no mapping is left in its range', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2); // [206, 208) in the table [192, 208)
      const b = yield* vm_mmap(mm, 2, RW); // [204, 206): same table
      const c = yield* vm_mmap(mm, 16, RW); // [188, 204): spans two tables
      yield* store(mm, addr, 1);
      yield* store(mm, b, 2);
      yield* store(mm, c, 3);
      yield* store(mm, c + 15, 4);
      assert.equal(yield* vm_munmap(mm, addr, 2), 0);
      assert.ok(mm.pgd[pmd_index(b)], 'still used by b and c');
      assert.equal(yield* vm_munmap(mm, b, 2), 0);
      assert.ok(mm.pgd[pmd_index(b)], 'still used by the top of c');
      assert.equal(yield* vm_munmap(mm, c, 16), 0);
      assert.equal(mm.pgd[pmd_index(c)], undefined);
      assert.equal(mm.pgd[pmd_index(b)], undefined);
      assert.equal(machine().mem.nr_free(), 16);
    });
  });

  it('munmap of the middle of a mapping keeps both ends and their pages', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(5);
      for (let i = 0; i < 5; i++) yield* store(mm, addr + i, i + 1);
      assert.equal(yield* vm_munmap(mm, addr + 1, 3), 0);
      assert.deepEqual(mm.mmap.map((v) => [v.vm_start, v.vm_end]), [[addr, addr + 1], [addr + 4, addr + 5]]);
      assert.deepEqual([yield* load(mm, addr), yield* load(mm, addr + 4), yield* load(mm, addr + 2)], [1, 5, EFAULT]);
      assert.ok(mm.pgd[pmd_index(addr)]);
      assert.equal(machine().mem.nr_free(), 16 - 2);
    });
  });

  it('exit tears everything down: pages, tables, VMAs, anon_vmas', () => {
    const r = run(function* () {
      const { mm, addr } = yield* mapped(3);
      yield* store(mm, addr, 1);
      const child = yield* fork(mm);
      yield* store(child, addr + 1, 2);
      yield* mmput(child);
      yield* mmput(mm);
      assert.equal(machine().mem.nr_free(), 16);
      assert.equal(machine().mms.length, 0);
    });
    assert.equal(r.violation, undefined);
  });
});

describe('engine/mm/memory: migration entries and the folio lock (memory.ts)', () => {
  it('a fault on a migration entry sleeps on the folio lock and retries once migration is done', () => {
    let mm: MmStruct | undefined;
    let addr = 0;
    let outAt = -1;
    const got: number[] = [];
    const scenario = (schedule: { step: number; task: number }[]) =>
      kernel(
        {
          T0: function* () {
            const m = yield* mapped(2);
            mm = m.mm;
            addr = m.addr;
            yield* store(mm, addr, 5);
            const f = yield* migrateOut(mm, addr, 'write');
            outAt = currentStep();
            yield 'migrating';
            yield* migrateBack(mm, addr, f, mk_pte(f.pfn, true, true));
          },
          T1: function* () {
            got.push(yield* load(mm!, addr));
          },
        },
        { schedule },
      );
    scenario([]);
    got.length = 0;
    const r = scenario([{ step: outAt + 1, task: 1 }]);
    assert.equal(r.violation, undefined, r.violation?.message);
    assert.deepEqual(got, [5]);
  });

  it('a migration entry whose folio is not locked is a BUG', () => {
    violates(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = yield* migrateOut(mm, addr, 'write');
      yield* bit_unlock(f.lock);
      yield* load(mm, addr);
    }, 'kernel-bug', /migration_entry_wait/);
  });

  it('a fault that finds the migration already undone under the PT lock just retries', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = yield* migrateOut(mm, addr, 'write');
      yield* migrateBack(mm, addr, f, mk_pte(f.pfn, true, true));
      assert.equal(yield* load(mm, addr), 5);
    });
  });

  it('fork copies a migration entry; a writable one becomes readable in both (COW)', () => {
    for (const mode of ['write', 'read-exclusive', 'read'] as const) {
      run(function* () {
        const { mm, addr } = yield* mapped(1);
        yield* store(mm, addr, 5);
        const f = yield* migrateOut(mm, addr, mode);
        folio_get(f);
        const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
        assert.deepEqual(pteAt(mm, addr), { kind: 'migration', pfn: f.pfn, mode: 'read' });
        assert.deepEqual(pteAt(child, addr), { kind: 'migration', pfn: f.pfn, mode: 'read' });
        if (mode === 'read') assert.equal(pteAt(mm, addr), pteAt(child, addr), 'a read entry is copied as it is');
        // Undo by hand: the child's entry goes, the parent gets its page back.
        const t = (yield* pte_offset_map_lock(child, addr))!;
        set_pte_at(t, addr, { kind: 'none' });
        yield* spin_unlock(t.ptl);
        yield* migrateBack(mm, addr, f, mk_pte(f.pfn, false, true));
        assert.equal(yield* load(mm, addr), 5);
        yield* mmput(child);
        folio_put(f);
      });
    }
  });

  it('zap drops a migration entry without touching the folio rmap', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 5);
      yield* store(mm, addr + 1, 6);
      const f = yield* migrateOut(mm, addr, 'write');
      folio_get(f);
      assert.equal(yield* vm_munmap(mm, addr, 2), 0);
      assert.equal(f._mapcount, 0);
      assert.equal(f._refcount, 2, 'the zap put no reference for a migration entry');
      yield* bit_unlock(f.lock);
      folio_put(f);
      folio_put(f);
    });
  });
});

describe('engine/mm/memory: COW reuse needs the folio lock (wp_can_reuse_anon_folio)', () => {
  it('a write fault copies a page it would reuse when somebody holds its lock', () => {
    const outcomes = new Set<string>();
    let readyAt = -1;
    const scenario = (schedule: { step: number; task: number }[]) => {
      let f: Folio | undefined;
      let mm: MmStruct | undefined;
      let addr = 0;
      const r = kernel(
        {
          T0: function* () {
            const m = yield* mapped(1);
            mm = m.mm;
            addr = m.addr;
            yield* store(mm, addr, 5);
            const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
            yield* mmput(child);
            f = folioAt(mm, addr);
            assert.ok(!PageAnonExclusive(f));
            folio_get(f); // T1's reference, so that a copy does not free a locked page
            readyAt = currentStep();
            yield 'ready';
            yield* store(mm, addr, 6);
            outcomes.add(folioAt(mm, addr) === f ? 'reused' : 'copied');
          },
          T1: function* () {
            const g = f!;
            yield* bit_lock(g.lock);
            yield 'holding the folio lock';
            yield* bit_unlock(g.lock);
            folio_put(g);
          },
        },
        { schedule },
      );
      assert.equal(r.violation, undefined, r.violation?.message);
    };
    scenario([]);
    for (let d = 1; d <= 4; d++) scenario([{ step: readyAt + 1, task: 1 }, { step: readyAt + 1 + d, task: 0 }]);
    assert.ok(outcomes.has('copied'), 'with the lock held elsewhere the fault copies');
  });
});

describe('engine/mm/memory: swap-in (do_swap_page)', () => {
  /** A page written with `value`, then swapped out by MADV_PAGEOUT. */
  function* swappedOut(value: number, prot = RW) {
    const t = yield* swapon(8);
    const { mm, addr } = yield* mapped(2, RW);
    yield* store(mm, addr, value);
    if (prot !== RW) assert.equal(yield* sys_mprotect(mm, addr, 2, prot), 0);
    assert.equal(yield* do_madvise(mm, addr, 1, 'PAGEOUT'), 0);
    const e = pteAt(mm, addr) as { kind: string; offset: number; exclusive: boolean };
    assert.equal(e.kind, 'swap');
    return { mm, addr, si: machine().swap_info[t]!, e };
  }

  it('a read fault maps an exclusive swapped page writable but clean, and keeps the slot (the swap cache keeps it)', () => {
    run(function* () {
      const { mm, addr, si, e } = yield* swappedOut(5);
      assert.equal(e.exclusive, true);
      assert.equal(yield* load(mm, addr), 5);
      const f = folioAt(mm, addr);
      assert.deepEqual(pteAt(mm, addr), { kind: 'present', pfn: f.pfn, write: true, dirty: false, protnone: false });
      assert.ok(PageAnonExclusive(f));
      assert.equal(swap_count(si, e.offset), 0, 'the PTE no longer references the slot');
      assert.equal(yield* store(mm, addr, 6), 0);
      assert.equal(folioAt(mm, addr), f, 'written in place');
    });
  });

  it('a write fault maps it writable and dirty and frees the swap cache copy', () => {
    run(function* () {
      const { mm, addr, si, e } = yield* swappedOut(5);
      assert.equal(yield* store(mm, addr, 7, 1), 0);
      const f = folioAt(mm, addr);
      assert.deepEqual(pteAt(mm, addr), { kind: 'present', pfn: f.pfn, write: true, dirty: true, protnone: false });
      assert.equal(f.flags & PG_swapcache, 0, 'out of the swap cache');
      assert.equal(si.swap_map!.map[e.offset], 0, 'the slot is free');
      assert.deepEqual(f.data, [5, 7]);
    });
  });

  it('in a read-only mapping the page comes back read-only; a page swapped while shared comes back read-only and COWs', () => {
    run(function* () {
      const { mm, addr } = yield* swappedOut(5, RO);
      assert.equal(yield* load(mm, addr), 5);
      assert.equal((pteAt(mm, addr) as { write: boolean }).write, false);
    });
    run(function* () {
      const { mm, addr } = yield* swappedOut(5);
      const child = (yield* dup_mm(mm, 'P1')) as typeof mm;
      assert.equal((pteAt(child, addr) as { exclusive: boolean }).exclusive, false, 'fork shares the entry, not exclusively');
      assert.equal(yield* load(mm, addr), 5);
      const f = folioAt(mm, addr);
      assert.equal((pteAt(mm, addr) as { write: boolean }).write, false, 'shared with the child: read-only');
      assert.equal(yield* store(mm, addr, 6), 0);
      assert.notEqual(folioAt(mm, addr), f, 'COW');
      assert.equal(yield* load(child, addr), 5);
      yield* mmput(child);
    });
  });
});
