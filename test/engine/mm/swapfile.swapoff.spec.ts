import assert from 'node:assert/strict';
import { machine } from '../../../engine/mm/machine.ts';
import { PG_swapcache } from '../../../engine/mm/mm_types.ts';
import { vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { SWP_WRITEOK } from '../../../engine/mm/swap.ts';
import { sys_swapoff } from '../../../engine/mm/swapfile.ts';
import { RO, RW, folioAt, load, mapped, pteAt, run, store } from '../harness.ts';
import { ENOMEM, EFAULT, PROT_NONE, swapon, pageout, swapPte, fillMemory } from './swapfile.setup.ts';

describe('engine/mm/swapfile: swapoff (try_to_unuse, unuse_pte_range, drain_mmlist)', () => {
  it('brings every page of the device back in place, read-only and clean, protnone in a PROT_NONE VMA, across page tables; leaves none PTEs and other devices alone; the last swapoff drains the mmlist', () => {
    run(function* () {
      const b = yield* swapon(1);
      const a = yield* swapon(8);
      const mm = (yield* mapped(24)).mm;
      const s = mm.mmap[0]!.vm_start;
      assert.equal(s % 16, 8, 'the mapping spans two page tables from s + 8');
      const pages = [0, 2, 3, 5, 10];
      for (const i of pages) yield* store(mm, s + i, 100 + i);
      yield* pageout(mm, s + 2);
      assert.equal(swapPte(mm, s + 2).type, b.type, 'b is full now');
      for (const i of [0, 3, 10]) yield* pageout(mm, s + i);
      assert.equal(yield* sys_mprotect(mm, s + 3, 2, PROT_NONE), 0);
      assert.deepEqual(mm.mmap.map((v) => [v.vm_start - s, v.vm_end - s]), [[0, 3], [3, 5], [5, 24]]);
      assert.equal(a.inuse_pages, 3);
      assert.ok(machine().mmlist.includes(mm));

      assert.equal(yield* sys_swapoff(a.type), 0);
      assert.equal(a.swap_map, undefined);
      for (const i of [0, 10]) {
        const f = folioAt(mm, s + i);
        assert.deepEqual(pteAt(mm, s + i), { kind: 'present', pfn: f.pfn, write: false, dirty: false, protnone: false });
        assert.equal(f.flags & PG_swapcache, 0, 'out of the swap cache');
      }
      assert.equal((pteAt(mm, s + 3) as { protnone: boolean }).protnone, true, 'PROT_NONE VMA: PAGE_NONE');
      assert.equal(pteAt(mm, s + 1)!.kind, 'none');
      assert.deepEqual(swapPte(mm, s + 2), { kind: 'swap', type: b.type, offset: 0, exclusive: true }, 'the other device keeps its page');
      assert.ok(machine().mmlist.includes(mm), 'b still has pages in use: the mmlist stays');
      assert.equal(yield* load(mm, s + 3), EFAULT);
      for (const i of [0, 5, 10]) assert.equal(yield* load(mm, s + i), 100 + i);

      assert.equal(yield* sys_swapoff(b.type), 0);
      assert.equal(yield* load(mm, s + 2), 102);
      assert.deepEqual(machine().mmlist, [], 'drained by the last swapoff');
      assert.equal(mm.onMmlist, false);

      // A new device: reclaim puts the mm back on the mmlist, so that swapoff finds it.
      const c = yield* swapon(2);
      yield* pageout(mm, s);
      assert.equal(swapPte(mm, s).type, c.type);
      assert.deepEqual(machine().mmlist, [mm]);
      assert.equal(yield* sys_swapoff(c.type), 0);
      assert.equal(yield* load(mm, s), 100);
      assert.equal(yield* sys_mprotect(mm, s + 3, 2, RW), 0);
      assert.equal(yield* load(mm, s + 3), 103);
    }, { frames: 24 });
  });

  it('without memory to read a page back, swapoff fails with ENOMEM and the device takes slots again; once memory is freed it succeeds', () => {
    run(function* () {
      const si = yield* swapon(4);
      const { mm } = yield* mapped(2);
      const hi = mm.mmap[0]!.vm_start;
      const lo = yield* vm_mmap(mm, 20, RW);
      assert.equal(lo, hi - 20);
      yield* store(mm, hi, 1);
      yield* store(mm, lo, 2);
      yield* store(mm, lo + 19, 3);
      assert.equal(yield* sys_mprotect(mm, hi, 2, RO), 0);
      assert.equal(mm.mmap.length, 2, 'the failing VMA first, then another anon VMA');
      yield* pageout(mm, lo);
      const e = swapPte(mm, lo);
      const filler = yield* fillMemory();
      assert.equal(yield* sys_swapoff(si.type), ENOMEM);
      assert.equal(si.flags & SWP_WRITEOK, SWP_WRITEOK, 'reinsert_swap_info');
      assert.deepEqual(swapPte(mm, lo), e);
      assert.equal(si.swap_map!.map[e.offset], 1);
      assert.equal(yield* vm_munmap(filler.mm, filler.addr, 2), 0);
      yield* pageout(mm, lo + 19);
      assert.equal(swapPte(mm, lo + 19).type, si.type, 'the device hands out slots again');
      assert.equal(si.inuse_pages, 2);
      assert.equal(yield* sys_swapoff(si.type), 0);
      assert.deepEqual([yield* load(mm, lo), yield* load(mm, lo + 19), yield* load(mm, hi)], [2, 3, 1]);
    }, { frames: 8 });
  });
});
