/*
 * include/linux/swap.h and swapops.h for the model: swap devices, their
 * swap_map, and swap entries (type, offset).
 */
import { Spinlock } from '../locking/spinlock.ts';
import { WaitQueue } from '../sched/waitable.ts';
import { KObject } from './kasan.ts';
import { WORDS_PER_PAGE, type Folio } from './mm_types.ts';

/* si->flags */
export const SWP_USED = 1 << 0;
export const SWP_WRITEOK = 1 << 1;
/** A synchronous device (zram, pmem: bdev_synchronous()): do_swap_page may skip the swap cache. */
export const SWP_SYNCHRONOUS_IO = 1 << 12;

/** swap_map[offset]: the count of references, plus this bit while the swap cache holds the slot. */
export const SWAP_HAS_CACHE = 0x40;
export const SWAP_MAP_MAX = 0x3e;

export interface SwpEntry {
  readonly type: number;
  readonly offset: number;
}

export function swp_entry(type: number, offset: number): SwpEntry {
  return { type, offset };
}

/** The per-slot counts and the slots' data: freed (vfree) by swapoff. */
export class SwapMap extends KObject {
  readonly map: number[];
  /** What swap_writepage() stored: the page contents per slot. */
  readonly slots: number[][];

  constructor(pages: number) {
    super('swap_map');
    this.map = new Array<number>(pages).fill(0);
    this.slots = Array.from({ length: pages }, () => new Array<number>(WORDS_PER_PAGE).fill(0));
  }
}

/** struct swap_info_struct */
export class SwapInfo extends KObject {
  flags = SWP_USED;
  readonly max: number;
  inuse_pages = 0;
  swap_map: SwapMap | undefined;
  /** The swap cache (swapper_spaces): offset -> folio. */
  readonly cache = new Map<number, Folio>();
  readonly lock: Spinlock;
  /** The swap cache's i_pages lock. */
  readonly cache_lock: Spinlock;
  /** si->users (a percpu_ref): get_swap_device() holders; killed by swapoff. */
  users = 0;
  users_dead = false;
  /** si->comp: swapoff sleeps here until the last get_swap_device() user leaves. */
  readonly comp: WaitQueue;

  constructor(readonly type: number, pages: number) {
    super('swap_info');
    this.comp = new WaitQueue(`swap${type} users`);
    this.max = pages;
    this.swap_map = new SwapMap(pages);
    this.lock = new Spinlock(`si->lock(swap${type})`, 'si->lock');
    this.cache_lock = new Spinlock(`i_pages(swap${type})`, 'swap_cache->i_pages');
  }
}
