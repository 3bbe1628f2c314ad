/*
 * mm/page_alloc.c and mm/swap.c's folio_put: a small physical memory.
 *
 * Frames are numbered 0..nr_frames-1 and handed out lowest first, so the same
 * program allocates the same pfns. A freed folio is poisoned (KASAN): a stale
 * PTE that still names its pfn finds the poisoned folio and any touch of it is
 * a use-after-free, until the frame is handed out again, when the stale PTE
 * silently maps somebody else's page, as it would in the kernel.
 */
import { FolioMmIds } from './rmap_mm_id.ts';
import { BUG_ON, report } from '../kernel/current.ts';
import { kfree, kobject_freed } from './kasan.ts';
import { Folio, HPAGE_PMD_NR, HUGE_ZERO_PFN, PG_anon, PG_anon_exclusive, Page, ZERO_PFN, is_zero_pfn, type StructPage } from './mm_types.ts';
import { machine } from './machine.ts';

export const DEFAULT_NR_FRAMES = 24;

export class PhysMem {
  /** The folio most recently placed in each frame (poisoned once freed). */
  readonly frames: (Folio | undefined)[];
  private readonly free: number[] = [];

  constructor(readonly nr_frames: number = DEFAULT_NR_FRAMES) {
    this.frames = new Array<Folio | undefined>(nr_frames).fill(undefined);
    for (let pfn = nr_frames - 1; pfn >= 0; pfn--) this.free.push(pfn);
  }

  nr_free(): number {
    return this.free.length;
  }

  /** Lowest free pfn first. */
  take(): number | undefined {
    return this.free.pop();
  }

  /**
   * The lowest naturally aligned block of 2^order free frames, taken; or
   * undefined (no such block: the buddy allocator's fragmentation).
   */
  takeBlock(order: number): number | undefined {
    const nr = 1 << order;
    const free = new Set(this.free);
    for (let base = 0; base + nr <= this.nr_frames; base += nr) {
      let all = true;
      for (let i = 0; i < nr && all; i++) all = free.has(base + i);
      if (!all) continue;
      this.free.splice(0, this.free.length, ...this.free.filter((p) => p < base || p >= base + nr));
      return base;
    }
    return undefined;
  }

  give(pfn: number): void {
    // Keep the free list sorted descending so that pop() returns the lowest.
    let i = this.free.length;
    while (i > 0 && this.free[i - 1]! < pfn) i--;
    this.free.splice(i, 0, pfn);
  }
}

/**
 * The model's stand-in for the LRU lists, as kswapd (isolate_lru_folios) and
 * kcompactd (isolate_migratepages) scan them: the live anon folios that
 * `eligible` accepts, in pfn order; the program's victim number picks one,
 * so the same op picks the same folio.
 */
export function lru_pick(victim: number, eligible: (f: Folio) => boolean): Folio | undefined {
  const candidates: Folio[] = [];
  const frames = machine().mem.frames;
  for (let pfn = 0; pfn < frames.length; pfn++) {
    const f = frames[pfn];
    // Anon folios, and shmem's while in the page cache. [shmem] A shmem
    // folio that shmem_writeout() left in the swap cache, unfreed, is not
    // rescanned: it goes when swapped in, truncated or swapped off. A THP
    // is one candidate, at its head's frame.
    if (!f || f.kasan.freed || (!(f.flags & PG_anon) && !f.f_mapping) || f._refcount <= 0 || f.pfn !== pfn) continue;
    if (eligible(f)) candidates.push(f);
  }
  if (candidates.length === 0) return undefined;
  return candidates[victim % candidates.length];
}

/** folio_alloc(): a fresh folio with one reference, or undefined (ENOMEM). */
export function folio_alloc(): Folio | undefined {
  const mem = machine().mem;
  const pfn = mem.take();
  if (pfn === undefined) return undefined;
  const folio = new Folio(pfn);
  mem.frames[pfn] = folio;
  return folio;
}

/**
 * folio_alloc(order = HPAGE_PMD_ORDER) for a THP: a large folio over an
 * aligned block of frames, its subpages' struct pages in folio.pages (each
 * frame names the folio, as compound_head() does), or undefined.
 */
export function folio_alloc_large(order: number): Folio | undefined {
  const mem = machine().mem;
  const pfn = mem.takeBlock(order);
  if (pfn === undefined) return undefined;
  const folio = new Folio(pfn);
  folio.order = order;
  const pages: Page[] = [];
  for (let i = 0; i < 1 << order; i++) {
    pages.push(new Page(pfn + i, folio));
    mem.frames[pfn + i] = folio;
  }
  folio.pages = pages;
  // prep_compound_head(): both mm slots free.
  folio._mm_ids = new FolioMmIds();
  return folio;
}

/** pfn_to_page(): the struct page of a frame: a small folio itself, or a THP's subpage. */
export function pfn_to_page(pfn: number): StructPage {
  const folio = pfn_folio(pfn);
  return folio.order ? folio.pages![pfn - folio.pfn]! : folio;
}

/** folio_page(folio, i) */
export function folio_page(folio: Folio, i: number): StructPage {
  return folio.order ? folio.pages![i]! : folio;
}

/** pfn_folio(): whatever lives in the frame now, possibly a freed folio; the zero page for my_zero_pfn(). */
export function pfn_folio(pfn: number): Folio {
  const m = machine();
  const f = m.mem.frames[pfn];
  if (!f) {
    if (is_zero_pfn(pfn) && m.zero_folio) return m.zero_folio;
    if (is_huge_zero_pfn(pfn) && m.huge_zero_folio) return m.huge_zero_folio;
    report('kernel-bug', `pfn_folio(${pfn}): no folio was ever allocated at this pfn`);
  }
  return f;
}

/** A frame of the huge zero folio (which lies outside mem_map). */
function is_huge_zero_pfn(pfn: number): boolean {
  return pfn >= HUGE_ZERO_PFN && pfn < HUGE_ZERO_PFN + HPAGE_PMD_NR;
}

/**
 * is_huge_zero_folio(). Not is_zero_folio(), which in 6.12 is the small
 * zero page only: try_grab_folio() pins the huge zero folio like any
 * large folio (a reference and _pincount), gup_put_folio() drops it.
 */
export function is_huge_zero_folio(folio: Folio): boolean {
  return folio.pfn === HUGE_ZERO_PFN && folio === machine().huge_zero_folio;
}

/** is_zero_folio(): the shared zero page. */
export function is_zero_folio(folio: StructPage): boolean {
  return folio.pfn === ZERO_PFN;
}

export function folio_get(folio: Folio): void {
  BUG_ON(folio._refcount <= 0, 'folio_get', `refcount ${folio._refcount} on ${folio.kname}`);
  folio._refcount++;
}

/**
 * folio_try_get_rcu() on a pfn, for lockless walkers (GUP-fast) that read a
 * PTE without any lock: the struct page itself is never freed, so the
 * speculative get always touches valid memory; a page freed meanwhile has
 * refcount 0 and the get fails. The model's freed folio object is poisoned,
 * so a freed frame reads as refcount 0 here, without touching it. The frame
 * may already hold another folio: the caller's PTE recheck then lets go.
 */
export function folio_try_get_speculative(pfn: number): Folio | undefined {
  // The huge zero folio (outside mem_map) is never freed: a PMD of it is
  // grabbed as any THP's (6.12 does not mark it pmd_special()).
  const f = machine().mem.frames[pfn] ?? (is_huge_zero_pfn(pfn) ? machine().huge_zero_folio : undefined);
  if (!f || kobject_freed(f) || f._refcount <= 0) return undefined;
  f._refcount++;
  return f;
}

/** folio_try_get(): fails on a folio whose last reference is gone. */
export function folio_try_get(folio: Folio): boolean {
  if (folio._refcount <= 0) return false;
  folio._refcount++;
  return true;
}

/** folio_put(): drop a reference; the last one frees the frame. */
export function folio_put(folio: Folio): void {
  BUG_ON(folio._refcount <= 0, 'folio_put', `refcount underflow on ${folio.kname}`);
  if (--folio._refcount === 0) __folio_put(folio);
}

/**
 * folio_ref_freeze(): take the refcount from `count` to 0 if nobody else
 * holds a reference, so that speculative gets fail while the folio is torn
 * down (__remove_mapping). False if someone else holds one.
 */
export function folio_ref_freeze(folio: Folio, count: number): boolean {
  if (folio._refcount !== count) return false;
  folio._refcount = 0;
  return true;
}

/** folio_ref_unfreeze(): give a frozen folio its `count` references back. */
export function folio_ref_unfreeze(folio: Folio, count: number): void {
  BUG_ON(folio._refcount !== 0, 'folio_ref_unfreeze', `${folio.kname} is not frozen (refcount ${folio._refcount})`);
  folio._refcount = count;
}

/** Free a folio whose refcount was frozen to 0. */
export function free_frozen_folio(folio: Folio): void {
  BUG_ON(folio._refcount !== 0, 'free_frozen_folio', `${folio.kname} refcount ${folio._refcount}`);
  __folio_put(folio);
}

function __folio_put(folio: Folio): void {
  BUG_ON(folio._mapcount !== 0, '__folio_put', `${folio.kname} freed while mapped ${folio._mapcount} times`);
  BUG_ON(folio.lock.isLocked(), '__folio_put', `${folio.kname} freed while locked`);
  BUG_ON(folio._pincount !== 0, '__folio_put', `${folio.kname} freed while pinned`);
  BUG_ON(folio._entire_mapcount !== 0, '__folio_put', `${folio.kname} freed while PMD-mapped`);
  // free_pages_prepare: page->mapping and the anon flags go with the page.
  folio.flags &= ~(PG_anon | PG_anon_exclusive);
  const pfn = folio.pfn;
  const nr = 1 << folio.order;
  if (folio.pages) for (const p of folio.pages) BUG_ON(p._mapcount !== 0, '__folio_put', `${folio.kname} freed while page ${p.pfn} is mapped`);
  kfree(folio);
  for (let i = 0; i < nr; i++) machine().mem.give(pfn + i);
}
