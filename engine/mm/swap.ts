/*
 * include/linux/swap.h and swapops.h (Linux 6.12) for the model: swap
 * devices, what swapon allocates for each and swapoff frees (swap_map,
 * cluster_info, the swap cache's address space, the swap file), and swap
 * entries (type, offset). Each of those is a KASAN object: a path that uses
 * one after swapoff freed it, without get_swap_device(), is caught.
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

/** The per-slot counts: freed (vfree) by swapoff. */
export class SwapMap extends KObject {
  readonly map: number[];

  constructor(pages: number) {
    super('swap_map');
    this.map = new Array<number>(pages).fill(0);
  }
}

/**
 * si->cluster_info: the model has one cluster per device, and its lock is
 * si->lock (lock_cluster() only touches it, so that a use after swapoff's
 * kvfree is caught); freed by swapoff.
 */
export class SwapClusterInfo extends KObject {
  count = 0;

  constructor() {
    super('swap_cluster_info');
  }
}

/** swapper_spaces[type]: the swap cache's address space (its i_pages), freed by exit_swap_address_space(). */
export class SwapAddressSpace extends KObject {
  readonly i_pages = new Map<number, Folio>();

  constructor() {
    super('swap_address_space');
  }
}

/** si->swap_file: the backing file, holding what swap_writepage() stored per slot; closed by swapoff. */
export class SwapFile extends KObject {
  readonly slots: number[][];

  constructor(pages: number) {
    super('swap_file');
    this.slots = Array.from({ length: pages }, () => new Array<number>(WORDS_PER_PAGE).fill(0));
  }
}

/** struct swap_info_struct */
export class SwapInfo extends KObject {
  flags = SWP_USED;
  readonly max: number;
  inuse_pages = 0;
  swap_map: SwapMap | undefined;
  cluster_info: SwapClusterInfo | undefined;
  /** swapper_spaces[type]: NULL once exit_swap_address_space() ran. */
  swapper_space: SwapAddressSpace | undefined;
  swap_file: SwapFile | undefined;
  readonly lock: Spinlock;
  /** The swap cache's i_pages lock. */
  readonly cache_lock: Spinlock;
  /** si->users (a percpu_ref): get_swap_device() holders; killed by swapoff. */
  users = 0;
  users_dead = false;
  /** si->comp: swapoff sleeps here until the last get_swap_device() user leaves. */
  readonly comp: WaitQueue;

  /**
   * swap_address_space(entry)->i_pages: the swap cache, offset -> folio. A
   * NULL dereference (an oops) once swapoff cleared swapper_spaces[type].
   */
  get cache(): Map<number, Folio> {
    return this.swapper_space!.i_pages;
  }

  constructor(readonly type: number, pages: number) {
    super('swap_info');
    this.comp = new WaitQueue(`swap${type} users`);
    this.max = pages;
    this.swap_map = new SwapMap(pages);
    this.cluster_info = new SwapClusterInfo();
    this.swapper_space = new SwapAddressSpace(); // init_swap_address_space()
    this.swap_file = new SwapFile(pages);
    this.lock = new Spinlock(`si->lock(swap${type})`, 'si->lock');
    this.cache_lock = new Spinlock(`i_pages(swap${type})`, 'swap_cache->i_pages');
  }
}
