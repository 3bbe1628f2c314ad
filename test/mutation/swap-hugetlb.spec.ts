import assert from 'node:assert/strict';
import type { KGen } from '../../engine/index.ts';
import { EBADF, EEXIST, HUGETLBFS_MAX_HPAGES, hugetlbfs_create, hugetlbfs_lookup, hugetlbfs_punch_hole, hugetlbfs_truncate, vm_mmap_hugetlbfs } from '../../engine/fs/hugetlbfs.ts';
import { dup_mm, mm_alloc, mmput } from '../../engine/kernel/fork.ts';
import { HPAGE_NR_PAGES, HUGETLB_POOL_PAGES, hstate } from '../../engine/mm/hugetlb.ts';
import { machine } from '../../engine/mm/machine.ts';
import { do_madvise } from '../../engine/mm/madvise.ts';
import { PG_swapcache } from '../../engine/mm/mm_types.ts';
import { sys_mprotect } from '../../engine/mm/mprotect.ts';
import { PageAnonExclusive } from '../../engine/mm/rmap.ts';
import { SWP_USED, SWP_WRITEOK, swp_entry } from '../../engine/mm/swap.ts';
import { MAX_SWAPFILES, get_swap_device, put_swap_device, swap_count, sys_swapoff, sys_swapon } from '../../engine/mm/swapfile.ts';
import { RO, RW, folioAt, load, mapped, pteAt, run, store, violates } from './harness.ts';

const EINVAL = -22;
const EBUSY = -16;

function* swapon(pages: number): KGen<number> {
  const t = yield* sys_swapon(pages);
  assert.ok(t >= 0, `swapon: ${t}`);
  return t;
}

describe('mutation: swap devices and MADV_PAGEOUT/WILLNEED (swapfile.ts, madvise.ts)', () => {
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
      const t = yield* swapon(4);
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
      const t = yield* swapon(4);
      put_swap_device(machine().swap_info[t]!);
    }, 'kernel-bug', /put_swap_device/);
  });

  it('PAGEOUT swaps out the anon pages of the range mapped once; pages shared with a child stay; WILLNEED reads them back into the swap cache', () => {
    run(function* () {
      const t = yield* swapon(8);
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

describe('mutation: hugetlbfs syscalls (fs/hugetlbfs.ts, mm/hugetlb.ts)', () => {
  const H = HPAGE_NR_PAGES;

  it('create: whole huge pages up to the pool, once per name', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, -H), EINVAL);
      assert.equal(yield* hugetlbfs_create(0, 1), EINVAL);
      assert.equal(yield* hugetlbfs_create(0, (HUGETLBFS_MAX_HPAGES + 1) * H), EINVAL);
      assert.equal(yield* hugetlbfs_create(0, HUGETLBFS_MAX_HPAGES * H), 0);
      assert.equal(hugetlbfs_lookup(0)!.f_inode.i_size, HUGETLBFS_MAX_HPAGES * H);
      assert.equal(yield* hugetlbfs_create(0, H), -EEXIST);
      assert.equal(yield* hugetlbfs_create(1, 0), 0, 'an empty file');
      assert.equal(hugetlbfs_lookup(1)!.f_inode.i_size, 0);
    });
  });

  it('truncate and punch: a file must exist; sizes in whole huge pages; offsets and lengths positive', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_truncate(3, H), -EBADF);
      assert.equal(yield* hugetlbfs_punch_hole(3, 0, H), -EBADF);
      assert.equal(yield* hugetlbfs_create(3, 2 * H), 0);
      assert.equal(yield* hugetlbfs_truncate(3, 1), EINVAL);
      assert.equal(yield* hugetlbfs_truncate(3, -H), EINVAL);
      assert.equal(yield* hugetlbfs_truncate(3, (HUGETLBFS_MAX_HPAGES + 1) * H), EINVAL);
      assert.equal(yield* hugetlbfs_punch_hole(3, -1, H), EINVAL);
      assert.equal(yield* hugetlbfs_punch_hole(3, 0, 0), EINVAL);
      assert.equal(yield* hugetlbfs_truncate(3, 3 * H), 0);
      assert.equal(hugetlbfs_lookup(3)!.f_inode.i_size, 3 * H);
      assert.equal(yield* hugetlbfs_punch_hole(3, 1, H), 0, 'no whole page inside: nothing to do');
    });
  });

  it('mmap of a file: huge-page aligned, shared data between processes; punch and truncate drop pages back to the pool', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const a = mm_alloc('P0');
      const b = mm_alloc('P1');
      const pa = yield* vm_mmap_hugetlbfs(a, 0, 2 * H, RW, 0);
      const pb = yield* vm_mmap_hugetlbfs(b, 0, H, RW, H);
      assert.ok(pa > 0 && pb > 0);
      assert.equal(pa % H, 0);
      assert.equal(pb % H, 0);
      assert.equal(yield* vm_mmap_hugetlbfs(a, 0, H + 1, RW, 0), EINVAL, 'not whole huge pages');
      assert.equal(yield* store(a, pa + H + 3, 42), 0);
      assert.equal(yield* load(b, pb + 3), 42, 'the second huge page of the file, seen from b');
      assert.equal(yield* load(a, pa + 3), 0);
      const pool = hstate();
      const used = HUGETLB_POOL_PAGES - pool.free_huge_pages;
      assert.equal(used, 2);
      assert.equal(yield* hugetlbfs_punch_hole(0, H, H), 0);
      assert.equal(yield* load(b, pb + 3), 0, 'punched: reads zero');
      assert.equal(yield* hugetlbfs_truncate(0, 0), 0);
      const beyond = yield* load(a, pa + 3);
      assert.ok(beyond < 0, `a page beyond the end of the file cannot be faulted (${beyond})`);
      yield* mmput(a);
      yield* mmput(b);
      assert.equal(pool.free_huge_pages, HUGETLB_POOL_PAGES, 'every huge page back in the pool');
    });
  });
});


describe('mutation: hugetlb PMD sharing, madvise and dirty bits (mm/hugetlb.ts)', () => {
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

describe('mutation: swap-in (do_swap_page)', () => {
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

