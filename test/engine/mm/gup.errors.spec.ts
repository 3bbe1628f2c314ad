import assert from 'node:assert/strict';
import { before } from '../../helpers/scenario.ts';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { FOLL_FORCE, FOLL_GET, FOLL_WRITE, __get_user_pages, get_user_pages_remote, gup_put_folio, pin_user_pages, pin_user_pages_fast } from '../../../engine/mm/gup.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { type Folio, type MmStruct } from '../../../engine/mm/mm_types.ts';
import { mmap_read_lock, mmap_read_unlock } from '../../../engine/mm/mmap_lock.ts';
import { RO, folioAt, kernel, load, mapped, pteAt, run, store, violates } from '../harness.ts';
import { mmap, w, pin, read, EFAULT, ENOMEM } from './gup.setup.ts';

describe('engine/mm/gup: GUP and pins (gup.ts)', () => {
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
