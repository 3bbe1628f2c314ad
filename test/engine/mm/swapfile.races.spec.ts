// Swap: slot allocation and counting, the swap cache, readahead, swapoff
// (mm/swapfile.c, mm/swap_state.c). Sequential scenarios check swap_map,
// SWAP_HAS_CACHE, the swap cache and the PTEs a path leaves; the races
// (swapoff against zap, reclaim and faults; two readers of one slot) are
// driven by switching tasks at named preemption points.
import assert from 'node:assert/strict';
import { defaultChoice, type KGen, type Strategy } from '../../../engine/index.ts';
import { dup_mm, mmput } from '../../../engine/kernel/fork.ts';
import { bit_trylock } from '../../../engine/locking/bitlock.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { Kernel } from '../../../engine/kernel/boot.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { PG_anon_exclusive, PG_swapcache, type Folio, type MmStruct, type PteSwap } from '../../../engine/mm/mm_types.ts';
import { vm_mmap, vm_munmap } from '../../../engine/mm/mmap.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { folio_alloc, folio_get } from '../../../engine/mm/page_alloc.ts';
import { SWAP_HAS_CACHE, SWAP_MAP_MAX, SWP_WRITEOK, swp_entry, type SwapInfo, SWP_USED } from '../../../engine/mm/swap.ts';
import { add_to_swap_cache, delete_from_swap_cache } from '../../../engine/mm/swap_state.ts';
import { swap_duplicate, swap_free, sys_swapoff, sys_swapon, MAX_SWAPFILES, get_swap_device, put_swap_device, swap_count } from '../../../engine/mm/swapfile.ts';
import { type KernelRun, RO, RW, folioAt, load, mapped, pteAt, run, store, violates } from '../harness.ts';

const ENOMEM = -12;
const EFAULT = -14;
const PROT_NONE = 0;

function* swapon(pages: number): KGen<SwapInfo> {
  const t = yield* sys_swapon(pages);
  assert.ok(t >= 0, `swapon: ${t}`);
  return machine().swap_info[t]!;
}

function* pageout(mm: MmStruct, addr: number, pages = 1): KGen {
  assert.equal(yield* do_madvise(mm, addr, pages, 'PAGEOUT'), 0);
}

/** Write `value` to the page at addr and swap it out; its swap PTE. */
function* swapPageAt(mm: MmStruct, addr: number, value: number): KGen<PteSwap> {
  assert.equal(yield* store(mm, addr, value), 0);
  yield* pageout(mm, addr);
  return swapPte(mm, addr);
}

function swapPte(mm: MmStruct, addr: number): PteSwap {
  const pte = pteAt(mm, addr);
  assert.equal(pte?.kind, 'swap', `no swap entry at ${addr}: ${pte?.kind}`);
  return pte as PteSwap;
}

/**
 * A swapped-out page (value 5), the first of a fresh `pages`-page mapping
 * on a fresh device; `cached`: read back into the swap cache by WILLNEED.
 */
function* swappedPage(cached: boolean, pages = 2): KGen<Ctx> {
  const si = yield* swapon(4);
  const { mm, addr } = yield* mapped(pages);
  yield* store(mm, addr, 5);
  yield* pageout(mm, addr);
  const e = swapPte(mm, addr);
  if (cached) assert.equal(yield* do_madvise(mm, addr, 1, 'WILLNEED'), 0);
  return { si, mm, addr, e, folio: si.cache.get(e.offset) };
}
interface Ctx {
  si: SwapInfo;
  mm: MmStruct;
  addr: number;
  e: PteSwap;
  folio: Folio | undefined;
}

/** Use up every free frame with pages of a new mapping; returns it. */
function* fillMemory(): KGen<{ mm: MmStruct; addr: number; pages: number }> {
  const { mm, addr } = yield* mapped(32, RW, 'filler');
  let pages = 0;
  while ((yield* store(mm, addr + pages, 100 + pages)) === 0) pages++;
  assert.equal(machine().mem.nr_free(), 0);
  return { mm, addr, pages };
}

/** Task `from`, parked at the preemption point `at` (its `nth` time there), hands the CPU to task `to`. */
interface Switch {
  readonly from: string;
  readonly at: string | ((label: string) => boolean);
  readonly nth?: number;
  readonly to: string;
  /** A switch only a broken model gets to (the window it would use). */
  readonly optional?: boolean;
}

/**
 * Run tasks (by name, in order) as the default scheduler does (each until it
 * blocks or ends), except at the given switches; `to` then runs until it
 * blocks or ends. No violation may occur, and every switch that is not
 * optional must happen: a race test that did not race proves nothing.
 */
function race(tasks: Record<string, () => KGen<unknown>>, switches: Switch[], o: { frames?: number; maxSteps?: number } = {}): KernelRun {
  {
    const seen = switches.map(() => 0);
    const fired = switches.map(() => false);
    const ranAt = new Map<number, number>();
    let k: Kernel | undefined;
    const strategy: Strategy = {
      nextTask(runnable, current, _step, sleeping) {
        const t = current >= 0 ? k!.sched.tasks[current]! : undefined;
        if (t && t.state === 'runnable' && ranAt.get(current) !== t.steps) {
          ranAt.set(current, t.steps);
          for (let i = 0; i < switches.length; i++) {
            const s = switches[i]!;
            if (fired[i] || s.from !== t.name) continue;
            if (typeof s.at === 'string' ? t.label !== s.at : !s.at(t.label)) continue;
            if (++seen[i]! < (s.nth ?? 1)) continue;
            fired[i] = true;
            const to = k!.sched.tasks.find((u) => u.name === s.to)!;
            assert.ok(runnable.includes(to.id), `${s.to} cannot run when ${s.from} is at ${t.label}`);
            return to.id;
          }
        }
        return defaultChoice(runnable, current, sleeping);
      },
      describe: () => 'at-label',
    };
    k = new Kernel({ strategy, maxSteps: o.maxSteps ?? 5000, machine: { nr_frames: o.frames ?? 16 } });
    for (const [name, body] of Object.entries(tasks)) k.spawn(name, body);
    const r = k.run();
    assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
    switches.forEach((s, i) => assert.ok(fired[i] || s.optional, `${s.from} never reached ${s.at}`));
    return { violation: r.violation, machine: k.machine, steps: r.steps, warnings: r.warnings };
  }
}

const EINVAL = -22;
const EBUSY = -16;

function* swaponType(pages: number): KGen<number> {
  const t = yield* sys_swapon(pages);
  assert.ok(t >= 0, `swapon: ${t}`);
  return t;
}

describe('engine/mm/swapfile: swap slots and counts (swapfile.ts)', () => {
  it('folio_alloc_swap takes a slot on the first device with room, and only one; a full device spills onto the next; with all full nothing is swapped', () => {
    run(function* () {
      const a = yield* swapon(1);
      const b = yield* swapon(2);
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 4; i++) yield* store(mm, addr + i, i + 1);
      yield* pageout(mm, addr);
      assert.deepEqual(swapPte(mm, addr), { kind: 'swap', type: a.type, offset: 0, exclusive: true });
      assert.deepEqual([a.inuse_pages, b.inuse_pages], [1, 0], 'one slot, on the first device');
      assert.deepEqual(b.swap_map!.map, [0, 0]);
      yield* pageout(mm, addr + 1, 2);
      assert.deepEqual([swapPte(mm, addr + 1), swapPte(mm, addr + 2)].map((e) => [e.type, e.offset]), [[b.type, 0], [b.type, 1]]);
      assert.deepEqual([a.inuse_pages, b.inuse_pages], [1, 2]);
      assert.deepEqual(a.swap_map!.map, [1]);
      assert.deepEqual(b.swap_map!.map, [1, 1]);
      yield* pageout(mm, addr + 3);
      assert.equal(pteAt(mm, addr + 3)!.kind, 'present', 'no slot left anywhere');
      for (let i = 0; i < 4; i++) assert.equal(yield* load(mm, addr + i), i + 1);
    });
  });

  it('swap_duplicate refuses a free slot and a count at SWAP_MAP_MAX (no continuation in the model): fork then fails with ENOMEM and its child gives its references back', () => {
    run(function* () {
      const si = yield* swapon(4);
      assert.ok((yield* swap_duplicate(swp_entry(si.type, 2))) < 0, 'a free slot');
      assert.equal(si.swap_map!.map[2], 0, 'and it stays free');
      assert.equal(si.inuse_pages, 0);
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 7);
      yield* pageout(mm, addr);
      const e = swapPte(mm, addr);
      const children: MmStruct[] = [];
      for (let i = 1; i < SWAP_MAP_MAX; i++) {
        const c = yield* dup_mm(mm, `C${i}`);
        assert.ok(typeof c !== 'number', `fork ${i}: ${c}`);
        children.push(c);
      }
      assert.equal(si.swap_map!.map[e.offset], SWAP_MAP_MAX);
      assert.equal(yield* dup_mm(mm, 'one too many'), ENOMEM);
      assert.equal(si.swap_map!.map[e.offset], SWAP_MAP_MAX, 'the failed fork took nothing');
      assert.ok((yield* swap_duplicate(swp_entry(si.type, e.offset))) < 0);
      for (const c of children) yield* mmput(c);
      assert.equal(si.swap_map!.map[e.offset], 1);
      assert.equal(yield* load(mm, addr), 7);
    });
  });

  it('BUG_ON: swap_free of a free slot; add_to_swap_cache of a folio already cached; deleting a folio the cache does not hold at its entry', () => {
    violates(function* () {
      const si = yield* swapon(4);
      yield* swap_free(swp_entry(si.type, 1));
    }, 'kernel-bug', /swap_free/);
    violates(function* () {
      const { si, folio } = yield* swappedPage(true);
      const f = folio!;
      assert.ok(yield* bit_trylock(f.lock));
      yield* add_to_swap_cache(f, swp_entry(si.type, 3));
    }, 'kernel-bug', /add_to_swap_cache/);
    violates(function* () {
      const { e } = yield* swappedPage(true);
      // Another folio that claims the slot the cache gives to the first.
      const impostor = folio_alloc()!;
      assert.ok(yield* bit_trylock(impostor.lock));
      impostor.flags |= PG_swapcache;
      impostor.swap = swp_entry(0, e.offset);
      yield* delete_from_swap_cache(impostor);
    }, 'kernel-bug', /__delete_from_swap_cache/);
    // A folio kept in the swap cache by reclaim (an extra reference stopped the
    // free) is anon and no longer exclusive; swapoff maps it back per PTE.
    violates(function* () {
      const si = yield* swapon(4);
      const { mm, addr } = yield* mapped(1);
      yield* store(mm, addr, 1);
      const f = folioAt(mm, addr);
      folio_get(f);
      yield* pageout(mm, addr);
      assert.equal(si.cache.get(swapPte(mm, addr).offset), f);
      assert.equal(f.flags & PG_anon_exclusive, 0);
      f.flags |= PG_anon_exclusive;
      yield* sys_swapoff(si.type);
    }, 'kernel-bug', /unuse_pte/);
  });
});


describe('engine/mm/swapfile: the swap cache on zap and swap-in (free_swap_and_cache, swapin_readahead, read_swap_cache_async)', () => {
  it('zapping the last swap PTE of a slot the swap cache holds frees both the slot and the unmapped folio', () => {
    run(function* () {
      const { si, mm, addr, e } = yield* swappedPage(false);
      const free0 = machine().mem.nr_free();
      assert.equal(yield* do_madvise(mm, addr, 1, 'WILLNEED'), 0);
      assert.equal(si.swap_map!.map[e.offset], 1 | SWAP_HAS_CACHE);
      assert.equal(machine().mem.nr_free(), free0 - 1);
      assert.equal(yield* do_madvise(mm, addr, 1, 'DONTNEED'), 0);
      assert.equal(si.swap_map!.map[e.offset], 0, 'slot free');
      assert.equal(si.inuse_pages, 0);
      assert.equal(si.cache.size, 0, 'the swap cache let go');
      assert.equal(machine().mem.nr_free(), free0, 'the folio is freed');
      assert.equal(yield* load(mm, addr), 0, 'DONTNEED: zero-fill on the next touch');
    });
  });

  it('zapping the last swap PTE of a slot whose folio is still mapped elsewhere keeps it in the swap cache (TTRS_UNMAPPED)', () => {
    run(function* () {
      const { si, mm, addr, e } = yield* swappedPage(false, 1);
      const child = (yield* dup_mm(mm, 'P1')) as MmStruct;
      assert.equal(si.swap_map!.map[e.offset], 2);
      assert.equal(yield* load(mm, addr), 5, 'the parent faults it back in; the child still has the entry');
      const f = folioAt(mm, addr);
      assert.equal(si.swap_map!.map[e.offset], 1 | SWAP_HAS_CACHE);
      yield* mmput(child);
      assert.equal(si.swap_map!.map[e.offset], SWAP_HAS_CACHE, 'no PTE refers to the slot');
      assert.equal(si.cache.get(e.offset), f, 'but the mapped folio stays in the swap cache');
      assert.ok(f.flags & PG_swapcache);
      assert.equal(si.inuse_pages, 1);
      assert.equal(yield* load(mm, addr), 5);
    });
  });

  it('a swap-in fault reads the slots around it into the swap cache (swap_cluster_readahead), not beyond the device', () => {
    run(function* () {
      const si = yield* swapon(3);
      const { mm, addr } = yield* mapped(3);
      for (let i = 0; i < 3; i++) yield* store(mm, addr + i, 10 + i);
      yield* pageout(mm, addr, 3);
      assert.deepEqual([0, 1, 2].map((i) => swapPte(mm, addr + i).offset), [0, 1, 2]);
      const free0 = machine().mem.nr_free();
      assert.equal(yield* load(mm, addr + 1), 11);
      assert.deepEqual([...si.cache.keys()].sort(), [0, 1, 2], 'both neighbours read ahead');
      assert.equal(machine().mem.nr_free(), free0 - 3);
      assert.deepEqual(si.swap_map!.map, [1 | SWAP_HAS_CACHE, SWAP_HAS_CACHE, 1 | SWAP_HAS_CACHE]);
      assert.deepEqual([swapPte(mm, addr).offset, swapPte(mm, addr + 2).offset], [0, 2], 'read ahead, not mapped');
      assert.deepEqual(si.cache.get(0)!.data, [10, 0]);
      assert.deepEqual(si.cache.get(2)!.data, [12, 0]);
      assert.equal(yield* load(mm, addr), 10);
      assert.equal(yield* load(mm, addr + 2), 12);
      assert.equal(machine().mem.nr_free(), free0 - 3, 'the faults found them in the swap cache');
    });
    run(function* () {
      const si = yield* swapon(2);
      const { mm, addr } = yield* mapped(2);
      for (let i = 0; i < 2; i++) yield* store(mm, addr + i, 10 + i);
      yield* pageout(mm, addr, 2);
      assert.equal(yield* load(mm, addr), 10);
      assert.deepEqual([...si.cache.keys()].sort(), [0, 1], 'slot 0: its neighbour 1');
    });
  });

  it('a swap-in with no free frame fails the fault with ENOMEM and leaves the slot as it was; it succeeds once memory is freed', () => {
    run(function* () {
      const { si, mm, addr, e } = yield* swappedPage(false, 1);
      const filler = yield* fillMemory();
      assert.equal(yield* load(mm, addr), ENOMEM);
      assert.equal(si.swap_map!.map[e.offset], 1, 'no SWAP_HAS_CACHE left behind');
      assert.equal(si.cache.size, 0);
      assert.deepEqual(swapPte(mm, addr), e);
      assert.equal(yield* vm_munmap(filler.mm, filler.addr, 1), 0);
      assert.equal(yield* load(mm, addr), 5);
    }, { frames: 8 });
  });
});


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


describe('engine/mm/swapfile: swapoff and swap-in races (swapfile.ts, swap_state.ts)', () => {
  it('swapoff holding a swap cache folio while DONTNEED zaps its PTE: unuse_pte finds no swap PTE, and folio_free_swap a folio already out of the swap cache', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(true);
        assert.ok(c.folio);
        const free0 = machine().mem.nr_free();
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.equal(pteAt(c.mm, c.addr)!.kind, 'none', 'not brought back over the zap');
        assert.equal(machine().mem.nr_free(), free0 + 1, 'the folio swapoff held is freed');
        assert.equal(yield* load(c.mm, c.addr), 0);
      },
      *T1() {
        assert.equal(yield* do_madvise(c!.mm, c!.addr, 1, 'DONTNEED'), 0);
        assert.equal(c!.si.swap_map!.map[c!.e.offset], 0, 'slot and swap cache freed by the zap');
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l === c.folio!.lock.lockLabel, to: 'T1' }]);
  });

  it('swapoff holding a swap cache folio while its page is zapped, rewritten and swapped to another device at the same offset: unuse_pte leaves that entry alone', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(true);
        const other = yield* swapon(4);
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.deepEqual(swapPte(c.mm, c.addr), { kind: 'swap', type: other.type, offset: c.e.offset, exclusive: true });
        assert.equal(other.swap_map!.map[c.e.offset], 1);
        assert.equal(yield* load(c.mm, c.addr), 9);
      },
      *T1() {
        assert.equal(yield* do_madvise(c!.mm, c!.addr, 1, 'DONTNEED'), 0);
        assert.equal(yield* store(c!.mm, c!.addr, 9), 0);
        yield* pageout(c!.mm, c!.addr);
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l === c.folio!.lock.lockLabel, to: 'T1' }]);
  });

  it('swapoff finding the slot of a swap PTE it read freed meanwhile by a zap skips it (swap_map 0), and succeeds', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(false);
        assert.equal(c.folio, undefined);
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.equal(pteAt(c.mm, c.addr)!.kind, 'none');
        assert.equal(yield* load(c.mm, c.addr), 0);
      },
      *T1() {
        assert.equal(yield* do_madvise(c!.mm, c!.addr, 1, 'DONTNEED'), 0);
        assert.equal(c!.si.swap_map!.map[c!.e.offset], 0);
        assert.equal(c!.si.inuse_pages, 0);
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l === 'get_swap_device: percpu_ref_tryget_live', to: 'T1' }]);
  });

  it('a page reclaimed behind swapoff while it drops the swap cache is brought back by the retry; the freed cache folio is skipped', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(false);
        const next = (yield* swapPageAt(c.mm, c.addr + 1, 6)).offset;
        assert.equal(next, c.e.offset + 1);
        // Read faults map them back and leave both in the swap cache (readahead brings in the neighbour).
        assert.deepEqual([yield* load(c.mm, c.addr), yield* load(c.mm, c.addr + 1)], [5, 6]);
        assert.equal(c.si.cache.size, 2);
        assert.deepEqual(c.si.swap_map!.map.slice(0, 2), [SWAP_HAS_CACHE, SWAP_HAS_CACHE]);
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.deepEqual([pteAt(c.mm, c.addr)!.kind, pteAt(c.mm, c.addr + 1)!.kind], ['present', 'present']);
        assert.deepEqual([yield* load(c.mm, c.addr), yield* load(c.mm, c.addr + 1)], [5, 6]);
      },
      *T1() {
        // Reclaim of the other page (the first the sweep meets): unmapped to its old slot, then freed.
        const free0 = machine().mem.nr_free();
        yield* pageout(c!.mm, c!.addr + 1);
        assert.equal(swapPte(c!.mm, c!.addr + 1).offset, c!.e.offset + 1);
        assert.equal(machine().mem.nr_free(), free0 + 1);
        assert.equal(c!.si.cache.has(c!.e.offset + 1), false);
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l === 'try_to_unuse: filemap_get_folio', to: 'T1' }]);
  });

  it('a fault that pins the device only after swapoff has waited for its users is refused (percpu_ref_kill) and retries against the page swapoff mapped', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(false);
        yield 'setup done';
        assert.equal(yield* sys_swapoff(c.si.type), 0);
        assert.equal(c.si.users, 0, 'no get_swap_device() user outlives swapoff');
      },
      *T1() {
        assert.equal(yield* load(c!.mm, c!.addr), 5);
        assert.equal(pteAt(c!.mm, c!.addr)!.kind, 'present');
      },
    }, [
      // The fault reads the swap PTE, then swapoff runs up to freeing the swap_map...
      { from: 'T0', at: 'setup done', to: 'T1' },
      { from: 'T1', at: 'get_swap_device: percpu_ref_tryget_live', to: 'T0' },
      // ...where the fault gets its turn to pin the device...
      { from: 'T0', at: (l) => c !== undefined && l === 'spin_lock(swap_lock)', nth: 2, to: 'T1' },
      // ...and, had it got it, would still be reading the swap_map when swapoff frees it.
      { from: 'T1', at: 'read_swap_cache_async: filemap_get_folio', to: 'T0', optional: true },
    ]);
  });

  it('two threads fault the same swapped page: the second finds the slot claimed (-EEXIST) by the first, waits, and maps the same page', () => {
    let c: Ctx | undefined;
    race({
      *T0() {
        c = yield* swappedPage(false);
        assert.equal(yield* load(c.mm, c.addr), 5);
      },
      *T1() {
        assert.equal(c!.si.swap_map!.map[c!.e.offset], 1 | SWAP_HAS_CACHE, 'claimed by T0, not yet in the swap cache');
        assert.equal(c!.si.cache.size, 0);
        assert.equal(yield* load(c!.mm, c!.addr), 5);
        assert.equal(c!.si.cache.size, 1, 'one folio for the slot');
        assert.equal(folioAt(c!.mm, c!.addr), c!.si.cache.get(c!.e.offset));
      },
    }, [{ from: 'T0', at: (l) => c !== undefined && l.startsWith('lock(folio_lock'), to: 'T1' }]);
  });
});

describe('engine/mm/swapfile: swap devices and MADV_PAGEOUT/WILLNEED (swapfile.ts, madvise.ts)', () => {
  it('swapon: 1..64 slots, at most MAX_SWAPFILES devices; swapoff: only of a device that is on', () => {
    run(function* () {
      assert.equal(yield* sys_swapon(0), EINVAL);
      assert.equal(yield* sys_swapon(65), EINVAL);
      assert.equal(yield* sys_swapon(1), 0);
      assert.equal(yield* sys_swapon(64), 1);
      for (let i = 2; i < MAX_SWAPFILES; i++) assert.equal(yield* sys_swapon(2), i);
      assert.equal(yield* sys_swapon(2), EBUSY);
      const si = machine().swap_info[1]!;
      assert.equal(si.flags & (SWP_USED | SWP_WRITEOK), SWP_USED | SWP_WRITEOK);
      assert.equal(si.max, 64);
      assert.equal(yield* sys_swapoff(9), EINVAL);
      assert.equal(yield* sys_swapoff(1), 0);
      assert.equal(si.flags, 0);
      assert.equal(si.swap_map, undefined);
      assert.equal(yield* sys_swapoff(1), EINVAL, 'already off');
      assert.equal(machine().swap_info.length, MAX_SWAPFILES, 'a device that is off keeps its type');
    });
  });

  it('get_swap_device pins a live device for an entry within it, and nothing else', () => {
    run(function* () {
      const t = yield* swaponType(4);
      const si = (yield* get_swap_device(swp_entry(t, 3)))!;
      assert.ok(si);
      assert.equal(si.users, 1);
      put_swap_device(si);
      assert.equal(si.users, 0);
      assert.equal(yield* get_swap_device(swp_entry(t, 4)), undefined, 'beyond the device');
      assert.equal(yield* get_swap_device(swp_entry(t + 1, 0)), undefined, 'no such device');
      assert.equal(yield* sys_swapoff(t), 0);
      assert.equal(yield* get_swap_device(swp_entry(t, 0)), undefined, 'switched off');
      assert.equal(si.users, 0);
    });
    violates(function* () {
      const t = yield* swaponType(4);
      put_swap_device(machine().swap_info[t]!);
    }, 'kernel-bug', /put_swap_device/);
  });

  it('PAGEOUT swaps out the anon pages of the range mapped once; pages shared with a child stay; WILLNEED reads them back into the swap cache', () => {
    run(function* () {
      const t = yield* swaponType(8);
      const { mm, addr } = yield* mapped(4);
      for (let i = 0; i < 3; i++) yield* store(mm, addr + i, i + 1);
      const free0 = machine().mem.nr_free();
      assert.equal(yield* do_madvise(mm, addr, 2, 'PAGEOUT'), 0);
      assert.deepEqual([0, 1, 2, 3].map((i) => pteAt(mm, addr + i)!.kind), ['swap', 'swap', 'present', 'none']);
      assert.equal(machine().mem.nr_free(), free0 + 2);
      const si = machine().swap_info[t]!;
      const e0 = pteAt(mm, addr) as { offset: number };
      assert.equal(swap_count(si, e0.offset), 1);
      assert.equal(yield* do_madvise(mm, addr, 2, 'WILLNEED'), 0);
      assert.equal(machine().mem.nr_free(), free0, 'read into the swap cache');
      assert.deepEqual([0, 1].map((i) => pteAt(mm, addr + i)!.kind), ['swap', 'swap'], 'still swap entries');
      assert.deepEqual([yield* load(mm, addr), yield* load(mm, addr + 1), yield* load(mm, addr + 2)], [1, 2, 3]);
      assert.equal(machine().mem.nr_free(), free0, 'the fault found them in the swap cache');
      // A page shared with a child is not paged out; COLD changes nothing.
      const child = (yield* dup_mm(mm, 'P1')) as typeof mm;
      assert.equal(yield* do_madvise(mm, addr + 2, 1, 'PAGEOUT'), 0);
      assert.equal(pteAt(mm, addr + 2)!.kind, 'present');
      assert.equal(yield* do_madvise(mm, addr, 4, 'COLD'), 0);
      assert.deepEqual([0, 1, 2].map((i) => pteAt(mm, addr + i)!.kind), ['present', 'present', 'present']);
      yield* mmput(child);
    }, { frames: 16 });
  });

  it('PAGEOUT without a swap device cannot free anon pages', () => {
    run(function* () {
      const { mm, addr } = yield* mapped(2);
      yield* store(mm, addr, 1);
      const f = folioAt(mm, addr);
      assert.equal(yield* do_madvise(mm, addr, 2, 'PAGEOUT'), 0);
      assert.equal(folioAt(mm, addr), f);
      assert.equal(yield* load(mm, addr), 1);
    });
  });
});
