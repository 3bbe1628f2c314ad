import { report } from '../engine/kernel/current.ts';
import { kobject_freed } from '../engine/mm/kasan.ts';
import { SWAP_HAS_CACHE, SWP_USED } from '../engine/mm/swap.ts';
import type { RunContext } from '../engine/program/executor.ts';
import type { Property } from './property.ts';
import { forEachPte, ptLocksHeld } from './walk.ts';
import { shmem_swap_entries } from '../engine/mm/shmem.ts';
import { shmemInUse, shmemSwapRefs } from './shmem.ts';

/**
 * Every swap PTE names a slot in use on a device that is on, and every
 * slot's count equals the swap PTEs that name it. Counts change only under a
 * PT lock (with the PTE), so this holds outside PT-lock critical sections.
 */
function checkSwapCounts(ctx: RunContext): void {
  const devices = ctx.machine.swap_info;
  const refs = new Map<number, number>();
  for (const mm of ctx.machine.mms) {
    forEachPte(mm, (address, pte) => {
      if (pte.kind !== 'swap') return;
      const si = devices[pte.type];
      const where = (): string => `${mm.kname} (${mm.owner}) at ${address} names swap ${pte.type}:${pte.offset}`;
      if (!si || !(si.flags & SWP_USED) || !si.swap_map || kobject_freed(si.swap_map)) report('no-stale-swap-handles', `${where()}, but that device is off`);
      if (pte.offset >= si.max) report('no-stale-swap-handles', `${where()}, beyond the device's ${si.max} slots`);
      if ((si.swap_map.map[pte.offset]! & ~SWAP_HAS_CACHE) === 0) report('no-stale-swap-handles', `${where()}, but that slot is free`);
      const key = slotKey(pte.type, pte.offset);
      refs.set(key, (refs.get(key) ?? 0) + 1);
    });
  }
  // A shmem file's swap entries are references too; each must name a slot in use on a device that is on.
  const shmem = shmemInUse(ctx.machine);
  if (shmem) {
    for (const { file, index, entry } of shmem_swap_entries(ctx.machine)) {
      const si = devices[entry.type];
      const where = `${file} index ${index} holds swap entry ${entry.type}:${entry.offset}`;
      if (!si || !(si.flags & SWP_USED) || !si.swap_map || kobject_freed(si.swap_map)) report('no-stale-swap-handles', `${where}, but that device is off`);
      if ((si.swap_map.map[entry.offset]! & ~SWAP_HAS_CACHE) === 0) report('no-stale-swap-handles', `${where}, but that slot is free`);
    }
    shmemSwapRefs(ctx.machine, refs, slotKey);
  }
  for (const si of devices) {
    if (!si.swap_map) continue;
    si.swap_map.map.forEach((v, offset) => {
      const n = refs.get(slotKey(si.type, offset)) ?? 0;
      const count = v & ~SWAP_HAS_CACHE;
      if (count === n) return;
      // shmem moves a count between a slot and its file without a PT lock:
      // writeout takes the count before the entry goes into i_pages, swapin
      // and truncate take the entry out before they drop the count. In
      // flight, a count may exceed its references; never the other way.
      if (shmem && ctx.busy > 0 && count > n) return;
      report('no-stale-swap-handles', `swap ${si.type}:${offset} has count ${count} but ${n} swap PTEs${shmem ? ' and shmem entries' : ''} name it`);
    });
  }
}

/** A slot as one number: no string per swap PTE per op. */
function slotKey(type: number, offset: number): number {
  return type * 0x1_0000_0000 + offset;
}

/**
 * With no op in flight: a slot has SWAP_HAS_CACHE exactly when the swap
 * cache holds a folio for it, that folio knows it, and inuse_pages counts
 * the slots in use.
 */
function checkSwapCache(ctx: RunContext): void {
  for (const si of ctx.machine.swap_info) {
    if (!si.swap_map) continue;
    let inuse = 0;
    si.swap_map.map.forEach((v, offset) => {
      if (v !== 0) inuse++;
      const folio = si.cache.get(offset);
      if (!!(v & SWAP_HAS_CACHE) !== !!folio) {
        report('no-stale-swap-handles', `swap ${si.type}:${offset} ${v & SWAP_HAS_CACHE ? 'is claimed by the swap cache, which holds no folio for it' : `is not claimed by the swap cache, which holds ${folio!.kname} for it`}`);
      }
      if (folio && (folio.swap?.type !== si.type || folio.swap.offset !== offset)) report('no-stale-swap-handles', `${folio.kname} is cached for swap ${si.type}:${offset} but names another slot`);
    });
    if (inuse !== si.inuse_pages) report('no-stale-swap-handles', `swap ${si.type} says ${si.inuse_pages} slots in use, but ${inuse} are`);
  }
}

export const noStaleSwapHandles: Property = {
  name: 'no-stale-swap-handles',
  description: 'every swap_map count equals the swap PTEs naming it (and the swap cache bit its cache entry); no PTE names a free slot or a device that is off; swapoff finishes',
  afterOp(ctx) {
    if (ptLocksHeld(ctx)) return;
    checkSwapCounts(ctx);
    if (ctx.busy === 0) checkSwapCache(ctx);
  },
  atEnd(ctx) {
    checkSwapCounts(ctx);
    checkSwapCache(ctx);
  },
};
