import assert from 'node:assert/strict';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { FOLL_WRITE, pin_user_pages, unpin_user_page } from '../../../engine/mm/gup.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { mk_pte } from '../../../engine/mm/mm_types.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { sys_swapoff, sys_swapon } from '../../../engine/mm/swapfile.ts';
import { RW, folioAt, load, mapped, pteAt, run, store } from '../harness.ts';
import { EFAULT, NONE, present } from './mprotect.setup.ts';

describe('engine/mm/mprotect: mprotect(PROT_NONE) and protnone PTEs (mprotect.ts, fault.ts)', () => {
  it('fork: the child inherits the protnone PTE and the protection; the pages are still shared', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const f = folioAt(mm, addr);
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      const child = yield* dup_mm(mm, 'P1');
      assert.ok(typeof child !== 'number');
      assert.deepEqual(pteAt(child, addr), mk_pte(f.pfn, false, true, true));
      assert.equal(yield* load(child, addr), EFAULT);
      assert.equal(yield* sys_mprotect(child, addr, 1, RW), 0);
      assert.equal(present(child, addr).write, false, 'shared with the parent: COW on the next write');
      assert.equal(yield* load(child, addr), 5);
      assert.equal(yield* store(child, addr, 6), 0);
      assert.notEqual(folioAt(child, addr), f);
      assert.equal(yield* load(mm, addr), EFAULT, 'the parent is still PROT_NONE');
      yield* mmput(child);
    });
  });

  it('fork copies a pinned page of a PROT_NONE mapping into a protnone PTE (copy_present_page)', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      const pinned = yield* pin_user_pages(mm, addr, FOLL_WRITE);
      assert.ok(typeof pinned !== 'number');
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      const child = yield* dup_mm(mm, 'P1');
      assert.ok(typeof child !== 'number');
      const c = folioAt(child, addr);
      assert.notEqual(c, pinned, 'a maybe-pinned page is copied');
      assert.deepEqual(pteAt(child, addr), mk_pte(c.pfn, false, true, true));
      assert.equal(yield* load(child, addr), EFAULT);
      assert.equal(yield* sys_mprotect(child, addr, 1, RW), 0);
      assert.equal(yield* load(child, addr), 5);
      unpin_user_page(pinned);
      yield* mmput(child);
    });
  });

  it('swap: a protnone page is swapped out; swapoff maps it back protnone (unuse_pte); rw again reads it', () => {
    run(function* () {
      const t = yield* sys_swapon(4);
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 5);
      assert.equal(yield* sys_mprotect(mm, addr, 1, NONE), 0);
      assert.equal(yield* do_madvise(mm, addr, 1, 'PAGEOUT'), 0);
      assert.equal(pteAt(mm, addr)?.kind, 'swap');
      assert.equal(yield* load(mm, addr), EFAULT, 'no swap-in for an access that is refused');
      assert.equal(pteAt(mm, addr)?.kind, 'swap');
      assert.equal(yield* sys_swapoff(t), 0);
      assert.equal(present(mm, addr).protnone, true);
      assert.equal(yield* load(mm, addr), EFAULT);
      assert.equal(yield* sys_mprotect(mm, addr, 1, RW), 0);
      assert.equal(yield* load(mm, addr), 5);
      assert.equal(yield* store(mm, addr, 6), 0);
    });
  });
});
