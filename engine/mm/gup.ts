/*
 * mm/gup.c for the model: get_user_pages / pin_user_pages (FOLL_GET,
 * FOLL_PIN, FOLL_WRITE, FOLL_FORCE, FOLL_LONGTERM), follow_page_pte(),
 * faultin_page() with FAULT_FLAG_UNSHARE, GUP-fast, and unpin_user_page().
 *
 * Reliable pins (seed 003): a FOLL_PIN on an anonymous page is only taken
 * while the page is PG_anon_exclusive. A R/O pin of a page that may be shared
 * first unshares it (FAULT_FLAG_UNSHARE), so that the pinned page and the page
 * mapped at the address stay the same: fork copies a maybe-pinned page
 * instead of sharing it, and swap-out / migration fail on one.
 *
 * The model has no zones or CMA: FOLL_LONGTERM changes nothing else (there
 * is nothing to migrate out of ZONE_MOVABLE first).
 *
 * The shared zero page (Linux 6.12): a pin of it takes no reference (try_grab_folio
 * and gup_put_folio leave it alone); GUP-fast never takes it (pte_special);
 * a R/O long-term pin in a COW mapping unshares it first (gup_must_unshare()
 * on a non-anon page), so that the pin sees what the process writes later; a
 * short-term R/O pin may hold it and never will.
 *
 * The huge zero folio (a huge PMD of it: huge_memory.ts) is followed as any
 * THP, by the slow path (follow_huge_pmd) and by GUP-fast (gup_fast_pmd_leaf:
 * 6.12 does not mark its PMD pmd_special(); later kernels do, "mm/huge_memory:
 * mark PMD mappings of the huge zero folio special", David Hildenbrand, 2025,
 * which leaves it to the slow path: what either returns is the same page). It is not anon and
 * 6.12's is_zero_folio() is the small zero page only: a FOLL_GET or a
 * short-term R/O FOLL_PIN of it takes a reference (and _pincount) like any
 * large folio's; a write or a R/O long-term pin in a COW mapping faults
 * (gup_must_unshare() on a non-anon page), and do_huge_pmd_wp_page()
 * replaces the zero PMD by a THP.
 */
import { rcu_read_lock, rcu_read_unlock } from '../locking/rcu.ts';
import { raw_read_seqcount, read_seqcount_retry } from '../locking/seqcount.ts';
import { spin_unlock } from '../locking/spinlock.ts';
import { BUG_ON } from '../kernel/current.ts';
import type { KGen } from '../sched/task.ts';
import { cond_resched } from '../sched/cond_resched.ts';
import { handle_mm_fault } from './memory.ts';
import { mmap_assert_locked, mmap_read_lock, mmap_read_unlock } from './mmap_lock.ts';
import {
  EFAULT,
  ENOMEM,
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_UNSHARE,
  FAULT_FLAG_WRITE,
  MMF_HAS_PINNED,
  VM_FAULT_ERROR,
  VM_FAULT_OOM,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  is_cow_mapping,
  pte_access_permitted,
  pte_protnone,
  type Folio,
  type MmStruct,
  type Pte,
  type VmArea,
  is_zero_pfn,
  mk_pte,
  page_folio,
  pmd_access_permitted,
  is_pmd_migration_entry,
  pmd_table,
  pmd_trans_huge,
  type PmdHuge,
  type StructPage,
} from './mm_types.ts';
import { haddr_of } from './huge_memory.ts';
import { vma_lookup } from './mmap.ts';
import { folio_put, folio_try_get_speculative, is_zero_folio, pfn_folio, pfn_to_page } from './page_alloc.ts';
import { pmd_index, pmd_lock, pte_index, pte_offset_map_lock, ptep_get } from './pgtable.ts';
import { PageAnonExclusive, folio_test_anon } from './rmap.ts';
import { is_vm_hugetlb_page } from './hugetlb.ts';

export const FOLL_WRITE = 1 << 0;
export const FOLL_GET = 1 << 1;
export const FOLL_FORCE = 1 << 4;
export const FOLL_REMOTE = 1 << 13;
export const FOLL_PIN = 1 << 18;
export const FOLL_LONGTERM = 1 << 16;

/* ---------------------------------------------------------- references */

/**
 * try_grab_folio(): FOLL_GET takes a reference; FOLL_PIN takes a pin (the
 * kernel adds GUP_PIN_COUNTING_BIAS to a small folio's refcount; the model
 * keeps an exact pincount and one reference per pin).
 */
export function try_grab_folio(folio: Folio, flags: number): boolean {
  if (folio._refcount <= 0) return false;
  // Don't take a pin on the zero page - it's not going anywhere and it is
  // used in a *lot* of places.
  if (flags & FOLL_PIN && is_zero_folio(folio)) return true;
  folio._refcount++;
  if (flags & FOLL_PIN) folio._pincount++;
  return true;
}

/** gup_put_folio(): drop what try_grab_folio() took. */
export function gup_put_folio(folio: Folio, flags: number): void {
  if (flags & FOLL_PIN) {
    if (is_zero_folio(folio)) return;
    BUG_ON(folio._pincount <= 0, 'gup_put_folio', `unpin of unpinned ${folio.kname}`);
    folio._pincount--;
  }
  folio_put(folio);
}

/** unpin_user_page(): the driver is done with the page (of a THP: its folio's pin goes). */
export function unpin_user_page(page: StructPage): void {
  gup_put_folio(page_folio(page), FOLL_PIN);
}

function mm_set_has_pinned_flag(mm: MmStruct): void {
  mm.flags |= MMF_HAS_PINNED;
}

/* -------------------------------------------------------------- checks */

/**
 * gup_must_unshare(): a R/O pin of an anonymous page that is not known to be
 * exclusive must unshare it first. FOLL_WRITE is handled implicitly: the PTE
 * has to be writable, and a writable anon PTE maps an exclusive page. Of a
 * page that is not anon (the zero page, a page-cache page) only a long-term
 * pin in a private ("COW") mapping must: it would not see the page the
 * process writes next.
 * Without the VMA (GUP-fast) assume the worst.
 */
export function gup_must_unshare(vma: VmArea | undefined, flags: number, page: StructPage): boolean {
  if ((flags & (FOLL_WRITE | FOLL_PIN)) !== FOLL_PIN) return false;
  if (!folio_test_anon(page_folio(page))) {
    // We only care about R/O long-term pining: R/O short-term pinning does
    // not have the semantics to observe successive changes through the
    // process page tables.
    if (!(flags & FOLL_LONGTERM)) return false;
    // We really need the VMA ... (GUP-fast has none: the slow path decides)
    if (!vma) return true;
    // ... because we only care about writable private ("COW") mappings
    // where we have to break COW early.
    return is_cow_mapping(vma.vm_flags);
  }
  return !PageAnonExclusive(page);
}

/** can_follow_write_pte(): FOLL_FORCE may write through a R/O PTE of an exclusive anon page (ptrace). */
function can_follow_write_pte(pte: Pte, page: StructPage, vma: VmArea, flags: number): boolean {
  if (pte.kind === 'present' && pte.write) return true;
  if (!(flags & FOLL_FORCE)) return false;
  if (vma.vm_flags & VM_SHARED) return false;
  if (!(vma.vm_flags & VM_MAYWRITE)) return false;
  if (vma.vm_flags & VM_WRITE) return false;
  return folio_test_anon(page_folio(page)) && PageAnonExclusive(page);
}

/** check_vma_flags(): may this GUP touch this VMA at all? */
function check_vma_flags(vma: VmArea, flags: number): number {
  if (flags & FOLL_WRITE) {
    if (!(vma.vm_flags & VM_WRITE)) {
      if (!(flags & FOLL_FORCE)) return -EFAULT;
      if (!is_cow_mapping(vma.vm_flags)) return -EFAULT;
    }
  } else if (!(vma.vm_flags & VM_READ)) {
    if (!(flags & FOLL_FORCE)) return -EFAULT;
    if (!(vma.vm_flags & VM_MAYREAD)) return -EFAULT;
  }
  return 0;
}

/* ------------------------------------------------------------ slow GUP */

const EMLINK = 31;

/**
 * follow_page_pte(): the page at address (its folio grabbed), if the PTE
 * allows the access; undefined if a fault is needed; -EMLINK if a R/O pin
 * must unshare. We enter with mmap_lock held for read.
 */
function* follow_page_pte(vma: VmArea, address: number, flags: number): KGen<StructPage | undefined | number> {
  const table = yield* pte_offset_map_lock(vma.vm_mm, address);
  if (!table) return undefined;
  const pte = ptep_get(table, address);
  let ret: StructPage | undefined | number;
  // A protnone PTE is followed (gup_can_follow_protnone() without
  // FOLL_HONOR_NUMA_FAULT): check_vma_flags() let only FOLL_FORCE into a
  // PROT_NONE VMA.
  if (pte.kind === 'present') {
    // vm_normal_page() finds no page for the zero page; is_zero_pfn() then
    // takes pte_page() all the same (its flags say it is not anon).
    const page = pfn_to_page(pte.pfn);
    const folio = page_folio(page);
    if (flags & FOLL_WRITE && !can_follow_write_pte(pte, page, vma, flags)) ret = undefined;
    else if (!pte.write && gup_must_unshare(vma, flags, page)) ret = -EMLINK;
    else {
      BUG_ON(
        (flags & FOLL_PIN) !== 0 && folio_test_anon(folio) && !PageAnonExclusive(page),
        'follow_page_pte',
        `pinning non-exclusive anon ${folio.kname}`,
      );
      ret = try_grab_folio(folio, flags) ? page : -ENOMEM;
    }
  }
  yield* spin_unlock(table.ptl);
  return ret;
}

/**
 * follow_huge_pmd(): the subpage at address of the THP a huge PMD maps (the
 * folio grabbed), as follow_page_pte() does for a PTE; exclusivity is the
 * head page's while PMD-mapped. We enter with the PMD lock held.
 */
function follow_huge_pmd(vma: VmArea, address: number, pmd: PmdHuge, flags: number): StructPage | undefined | number {
  const folio = pfn_folio(pmd.pfn);
  const head = folio.pages![0]!;
  // can_follow_write_pmd(): FOLL_FORCE through a R/O PMD only for an exclusive THP.
  if (flags & FOLL_WRITE && !pmd.write && !can_follow_write_pte(mk_pte(pmd.pfn, false), head, vma, flags)) return undefined;
  // A protnone PMD is followed, as a protnone PTE (gup_can_follow_protnone()).
  if (!pmd.write && gup_must_unshare(vma, flags, head)) return -EMLINK;
  BUG_ON((flags & FOLL_PIN) !== 0 && folio_test_anon(folio) && !PageAnonExclusive(head), 'follow_huge_pmd', `pinning non-exclusive anon ${folio.kname}`);
  if (!try_grab_folio(folio, flags)) return -ENOMEM;
  return folio.pages![address - haddr_of(address)]!;
}

/**
 * follow_pmd_mask(): a huge PMD is followed under the PMD lock
 * (follow_huge_pmd), anything else by follow_page_pte(); a PMD that changed
 * between the lockless look and the lock is looked at again as what it is now.
 * A PMD migration entry is no page (!pmd_present: no_page_table()): the
 * caller's faultin_page() waits for the migration (pmd_migration_entry_wait)
 * and GUP retries.
 * We enter with mmap_lock held for read.
 */
function* follow_pmd_mask(vma: VmArea, address: number, flags: number): KGen<StructPage | undefined | number> {
  const mm = vma.vm_mm;
  // pmdp_get_lockless()
  const pmdval = mm.pgd[pmd_index(address)];
  if (is_pmd_migration_entry(pmdval)) return undefined;
  if (!pmd_trans_huge(pmdval)) return yield* follow_page_pte(vma, address, flags);
  const ptl = yield* pmd_lock(mm);
  const pmd = mm.pgd[pmd_index(address)];
  if (is_pmd_migration_entry(pmd)) {
    yield* spin_unlock(ptl);
    return undefined;
  }
  if (!pmd_trans_huge(pmd)) {
    yield* spin_unlock(ptl);
    return yield* follow_page_pte(vma, address, flags);
  }
  const page = follow_huge_pmd(vma, address, pmd, flags);
  yield* spin_unlock(ptl);
  return page;
}

/**
 * faultin_page(): fault the page in for GUP: a write fault for FOLL_WRITE,
 * an unshare fault for a R/O pin of a possibly shared anon page.
 */
function* faultin_page(vma: VmArea, address: number, flags: number, unshare: boolean): KGen<number> {
  let fault_flags = 0;
  if (flags & FOLL_WRITE) fault_flags |= FAULT_FLAG_WRITE;
  if (flags & FOLL_REMOTE) fault_flags |= FAULT_FLAG_REMOTE;
  if (unshare) {
    fault_flags |= FAULT_FLAG_UNSHARE;
    // FAULT_FLAG_WRITE and FAULT_FLAG_UNSHARE are incompatible.
    BUG_ON((fault_flags & FAULT_FLAG_WRITE) !== 0, 'faultin_page', 'unshare with FAULT_FLAG_WRITE');
  }
  const ret = yield* handle_mm_fault(vma, address, fault_flags);
  if (ret & VM_FAULT_OOM) return -ENOMEM;
  if (ret & VM_FAULT_ERROR) return -EFAULT;
  return 0;
}

/**
 * __get_user_pages() for one page: look the VMA up, follow the PTE, fault
 * and retry until the page can be grabbed.
 * We enter with mmap_lock held for read; we return with it.
 */
export function* __get_user_pages(mm: MmStruct, address: number, flags: number): KGen<StructPage | number> {
  mmap_assert_locked(mm, '__get_user_pages');
  const vma = vma_lookup(mm, address);
  if (!vma) return -EFAULT;
  // [hugetlb] hugetlb_follow_page_mask() is not modelled: no GUP of huge pages.
  if (is_vm_hugetlb_page(vma)) return -EFAULT;
  const err = check_vma_flags(vma, flags);
  if (err) return err;
  for (;;) {
    yield* cond_resched();
    const r = yield* follow_pmd_mask(vma, address, flags);
    if (typeof r === 'object') return r;
    if (typeof r === 'number' && r !== -EMLINK) return r;
    const ret = yield* faultin_page(vma, address, flags, r === -EMLINK);
    if (ret) return ret;
  }
}

/** get_user_pages_remote() for one page (FOLL_GET), e.g. exec's get_arg_page(). */
export function* get_user_pages_remote(mm: MmStruct, address: number, flags: number): KGen<StructPage | undefined> {
  const r = yield* __get_user_pages(mm, address, flags | FOLL_GET | FOLL_REMOTE);
  return typeof r === 'number' ? undefined : r;
}

/**
 * get_user_pages() for one page (FOLL_GET): the slow path, under mmap_lock.
 * A R/O reference does not unshare (gup_must_unshare() is for FOLL_PIN): it
 * may be of a page shared with a fork child, and a later COW leaves it there.
 * We take mmap_lock for read. Returns the folio, with a reference, or -errno.
 */
export function* get_user_pages(mm: MmStruct, address: number, flags: number): KGen<StructPage | number> {
  yield* mmap_read_lock(mm);
  const r = yield* __get_user_pages(mm, address, flags | FOLL_GET);
  yield* mmap_read_unlock(mm);
  return r;
}

/**
 * pin_user_pages() for one page: the slow path, under mmap_lock.
 * We take mmap_lock for read. Returns the pinned folio or -errno.
 */
export function* pin_user_pages(mm: MmStruct, address: number, flags: number): KGen<StructPage | number> {
  // Set before the pin can exist: fork checks it under the PT lock.
  mm_set_has_pinned_flag(mm);
  yield* mmap_read_lock(mm);
  const r = yield* __get_user_pages(mm, address, flags | FOLL_PIN);
  yield* mmap_read_unlock(mm);
  return r;
}

/* ------------------------------------------------------------ GUP-fast */

/**
 * gup_fast_pte_range() for one page, without mmap_lock or the PT lock:
 * read the PTE, grab the folio, re-read the PTE (an unmap may have cleared
 * it in between: then let go), and refuse a page a R/O pin would have to
 * unshare. Page tables cannot be freed under us: interrupts are off in the
 * kernel, a read-side RCU section here (tables are freed after a grace period).
 */
function* gup_fast_pte_range(mm: MmStruct, address: number, flags: number): KGen<StructPage | undefined> {
  rcu_read_lock(); // local_irq_save()
  let got: StructPage | undefined;
  yield 'gup_fast: walk to pte (lockless)';
  const pmd = mm.pgd[pmd_index(address)];
  if (pmd_trans_huge(pmd)) {
    got = yield* gup_fast_pmd_leaf(mm, pmd, address, flags);
    rcu_read_unlock();
    return got;
  }
  // !pmd_present(): a PMD migration entry; the slow path's fault waits for it.
  const table = pmd_table(pmd);
  const pte = table?.ptes[pte_index(address)];
  // pte_protnone(), then pte_access_permitted(): no pin through a PTE user
  // space could not access itself (a PROT_NONE mapping, a read-only one for
  // FOLL_WRITE); the slow path decides those under mmap_lock.
  // pte_special(): the zero page is left to the slow path.
  if (table && pte && !pte_protnone(pte) && pte_access_permitted(pte, (flags & FOLL_WRITE) !== 0) && !is_zero_pfn(pte.pfn)) {
    yield 'gup_fast: try_grab_folio_fast';
    const folio = folio_try_get_speculative(pte.pfn);
    if (folio) {
      if (flags & FOLL_PIN) folio._pincount++;
      yield 'gup_fast: recheck pmd and pte';
      const page = folio.order ? folio.pages![pte.pfn - folio.pfn]! : folio;
      if (mm.pgd[pmd_index(address)] !== table || table.ptes[pte_index(address)] !== pte) gup_put_folio(folio, flags);
      else if (!pte.write && gup_must_unshare(undefined, flags, page)) gup_put_folio(folio, flags);
      else got = page;
    }
  }
  rcu_read_unlock(); // local_irq_restore()
  return got;
}

/**
 * gup_fast_pmd_leaf(): a huge PMD, read without any lock: grab the folio,
 * then re-read the PMD (a split, zap or COW may have changed it: let go),
 * and refuse a THP a R/O pin would have to unshare (the head page's bit).
 * We enter in GUP-fast's read-side section (interrupts off in the kernel).
 */
function* gup_fast_pmd_leaf(mm: MmStruct, orig: PmdHuge, address: number, flags: number): KGen<StructPage | undefined> {
  if (!pmd_access_permitted(orig, (flags & FOLL_WRITE) !== 0)) return undefined;
  yield 'gup_fast: try_grab_folio_fast';
  const folio = folio_try_get_speculative(orig.pfn);
  if (!folio) return undefined;
  if (flags & FOLL_PIN) folio._pincount++;
  yield 'gup_fast: recheck pmd';
  if (mm.pgd[pmd_index(address)] !== orig) {
    gup_put_folio(folio, flags);
    return undefined;
  }
  if (!orig.write && gup_must_unshare(undefined, flags, folio.pages![0]!)) {
    gup_put_folio(folio, flags);
    return undefined;
  }
  return folio.pages![address - haddr_of(address)]!;
}

/**
 * get_user_pages_fast() for one page (FOLL_GET, as vmsplice takes it):
 * GUP-fast, falling back to the slow path. No write_protect_seq: only
 * FOLL_PIN needs to know that fork is not sharing the page under it.
 */
export function* get_user_pages_fast(mm: MmStruct, address: number, flags: number): KGen<StructPage | number> {
  flags |= FOLL_GET;
  const folio = yield* gup_fast_pte_range(mm, address, flags);
  if (folio) return folio;
  return yield* get_user_pages(mm, address, flags);
}

/**
 * pin_user_pages_fast() for one page: GUP-fast, falling back to the slow
 * path. A concurrent fork is noticed through mm->write_protect_seq: fork
 * write-protects (and shares) anon pages while the count is odd, so a pin
 * taken then might be of a page that is no longer exclusive.
 */
export function* pin_user_pages_fast(mm: MmStruct, address: number, flags: number): KGen<StructPage | number> {
  flags |= FOLL_PIN;
  mm_set_has_pinned_flag(mm);
  const seq = yield* raw_read_seqcount(mm.write_protect_seq);
  if (!(seq & 1)) {
    const page = yield* gup_fast_pte_range(mm, address, flags);
    if (page) {
      if (!(yield* read_seqcount_retry(mm.write_protect_seq, seq))) return page;
      // Raced with fork: undo, and take the slow path, which waits for it.
      gup_put_folio(page_folio(page), flags);
    }
  }
  return yield* pin_user_pages(mm, address, flags);
}
