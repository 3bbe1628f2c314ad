// The setup shared by the test/engine/mm/memory.*.spec.ts files.
import assert from 'node:assert/strict';
import { type KGen } from '../../../engine/index.ts';
import { dup_mm } from '../../../engine/kernel/fork.ts';
import { type MmStruct, type Folio, type Pte } from '../../../engine/mm/mm_types.ts';
import { pte_offset_map_lock, set_pte_at } from '../../../engine/mm/pgtable.ts';
import { folioAt } from '../harness.ts';
import { bit_lock, bit_unlock } from '../../../engine/locking/bitlock.ts';
import { spin_unlock } from '../../../engine/locking/spinlock.ts';
import { sys_swapon } from '../../../engine/mm/swapfile.ts';

export const EFAULT = -14;
export const ENOMEM = -12;

export function* fork(mm: MmStruct): KGen<MmStruct> {
  const child = yield* dup_mm(mm, 'P1');
  assert.equal(typeof child, 'object', `fork failed: ${String(child)}`);
  return child as MmStruct;
}

/** What try_to_migrate() leaves: the folio locked, a migration entry instead of the PTE, one mapping less. */
export function* migrateOut(mm: MmStruct, addr: number, mode: 'read' | 'read-exclusive' | 'write'): KGen<Folio> {
  const f = folioAt(mm, addr);
  yield* bit_lock(f.lock);
  const t = (yield* pte_offset_map_lock(mm, addr))!;
  set_pte_at(t, addr, { kind: 'migration', pfn: f.pfn, mode });
  f._mapcount--;
  yield* spin_unlock(t.ptl);
  return f;
}

export function* migrateBack(mm: MmStruct, addr: number, f: Folio, pte: Pte): KGen {
  const t = (yield* pte_offset_map_lock(mm, addr))!;
  set_pte_at(t, addr, pte);
  f._mapcount++;
  yield* spin_unlock(t.ptl);
  yield* bit_unlock(f.lock);
}

/**
 * Migration entries: nothing creates them yet (no migration op), so the paths
 * that meet one (a fault waits, fork copies it, zap drops it) are driven from
 * here with entries planted the way try_to_migrate() would leave them.
 */

export function* swapon(pages: number): KGen<number> {
  const t = yield* sys_swapon(pages);
  assert.ok(t >= 0, `swapon: ${t}`);
  return t;
}
