/*
 * mm/pgtable-generic.c and include/linux/pgtable.h: walking to a PTE table
 * and taking its split lock.
 *
 * Page-table pages are freed after an RCU grace period (as with
 * MMU_GATHER_RCU_TABLE_FREE), and pte_offset_map() reads the PMD under
 * rcu_read_lock(), so a walker that read a PMD just before free_pgtables()
 * cleared it still holds valid memory; it rechecks the PMD under the PT lock.
 */
import { rcu_read_lock, rcu_read_unlock, call_rcu } from '../locking/rcu.ts';
import { report } from '../kernel/current.ts';
import type { Spinlock } from '../locking/spinlock.ts';
import { spin_lock, spin_lock_nested, spin_unlock } from '../locking/spinlock.ts';
import type { KGen } from '../sched/task.ts';
import { kfree } from './kasan.ts';
import { PTRS_PER_PTE, PteTable, pmd_table, type MmStruct, type Pte } from './mm_types.ts';
import { machine } from './machine.ts';

export function pmd_index(address: number): number {
  return Math.floor(address / PTRS_PER_PTE);
}

export function pte_index(address: number): number {
  return address % PTRS_PER_PTE;
}

/** The first address of the next PTE table (pmd_addr_end). */
export function pmd_addr_end(address: number, end: number): number {
  const boundary = (pmd_index(address) + 1) * PTRS_PER_PTE;
  return boundary < end ? boundary : end;
}

/**
 * pte_offset_map_lock(): the PTE table mapping `address`, locked, or
 * undefined if the PMD is empty or a huge leaf (__pte_offset_map() fails on
 * pmd_trans_huge since 6.5: the caller retries or skips, as a racing THP
 * fault or split may change the PMD under it).
 * We enter with nothing; we return with the table's PT lock held.
 */
export function* pte_offset_map_lock(mm: MmStruct, address: number, subclass = 0): KGen<PteTable | undefined> {
  const idx = pmd_index(address);
  for (;;) {
    rcu_read_lock();
    yield 'pte_offset_map: read pmd';
    const table = pmd_table(mm.pgd[idx]);
    if (!table) {
      rcu_read_unlock();
      return undefined;
    }
    if (subclass) yield* spin_lock_nested(table.ptl, subclass);
    else yield* spin_lock(table.ptl);
    rcu_read_unlock();
    // pmd_same() recheck: free_pgtables() may have cleared the PMD meanwhile.
    if (mm.pgd[idx] === table) return table;
    yield* spin_unlock(table.ptl);
  }
}

/** pte_offset_map() without the lock: the table, for a lockless read. */
export function* pte_offset_map_nolock(mm: MmStruct, address: number): KGen<PteTable | undefined> {
  yield 'pte_offset_map_nolock: read pmd';
  return pmd_table(mm.pgd[pmd_index(address)]);
}

/**
 * pte_alloc(): make sure a PTE table exists for `address`.
 * We enter with mmap_lock held (read or write); false means ENOMEM.
 */
export function* pte_alloc(mm: MmStruct, address: number): KGen<boolean> {
  const idx = pmd_index(address);
  yield 'pte_alloc: read pmd';
  if (mm.pgd[idx]) return true;
  const fresh = new PteTable(mm, idx);
  yield* spin_lock(mm.page_table_lock);
  // pmd_populate() only if no other thread populated it first.
  let lost = true;
  if (!mm.pgd[idx]) {
    mm.pgd[idx] = fresh;
    lost = false;
  }
  yield* spin_unlock(mm.page_table_lock);
  if (lost) kfree(fresh);
  return true;
}

export function ptep_get(table: PteTable, address: number): Pte {
  return table.ptes[pte_index(address)]!;
}

export function set_pte_at(table: PteTable, address: number, pte: Pte): void {
  table.ptes[pte_index(address)] = pte;
}

/**
 * pte_free_tlb(): the table goes after a grace period, so lockless walkers
 * (pte_offset_map, GUP-fast) that read the PMD before it was cleared are safe.
 */
export function pte_free(table: PteTable): void {
  call_rcu(() => kfree(table));
}

/**
 * mm_forbids_zeropage(): the architecture's say (s390 with KVM guests); the
 * model's machine says it for every mm (MachineOptions.zero_page).
 */
export function mm_forbids_zeropage(_mm: MmStruct): boolean {
  return machine().zero_folio === undefined;
}

/* ------------------------------------------------------------ PMD level */

/**
 * pmd_lock(): mm->page_table_lock, pmd_lockptr() without split PMD locks
 * (see mm_types.ts); the lock pte_alloc() populates a PMD under, so a THP
 * fault and a PTE-table allocation see each other's pmd_none() recheck.
 * We enter with nothing; we return with it held.
 */
export function* pmd_lock(mm: MmStruct): KGen<Spinlock> {
  const ptl = mm.page_table_lock;
  yield* spin_lock(ptl);
  return ptl;
}

/** pgtable_trans_huge_deposit(): keep a PTE table for a later split. We enter with the PMD lock held. */
export function pgtable_trans_huge_deposit(mm: MmStruct, pgtable: PteTable): void {
  mm.pmd_huge_pte.push(pgtable);
}

/** pgtable_trans_huge_withdraw(): take a deposited table back. We enter with the PMD lock held. */
export function pgtable_trans_huge_withdraw(mm: MmStruct): PteTable {
  const t = mm.pmd_huge_pte.pop();
  if (!t) report('kernel-bug', `pgtable_trans_huge_withdraw: no deposited page table in ${mm.kname}`);
  return t;
}
