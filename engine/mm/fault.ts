/*
 * arch/x86/mm/fault.c for the model, and the "hardware": a user access walks
 * the page table and reads or writes the page in one step, as the MMU does;
 * a PTE that does not permit the access (none, swap, migration, read-only
 * for a store, protnone for anything) raises a fault, handled by
 * do_user_addr_fault(), after which the access is retried.
 */
import type { KGen } from '../sched/task.ts';
import { handle_mm_fault, lock_mm_and_find_vma } from './memory.ts';
import { mmap_read_unlock } from './mmap_lock.ts';
import {
  EFAULT,
  ENOMEM,
  FAULT_FLAG_WRITE,
  VM_FAULT_ERROR,
  VM_FAULT_OOM,
  mk_huge_pmd,
  mk_pte,
  page_folio,
  pmd_access_permitted,
  pmd_table,
  pmd_trans_huge,
  pte_access_permitted,
  type MmStruct,
} from './mm_types.ts';
import { pfn_folio, pfn_to_page } from './page_alloc.ts';
import { pmd_index, pte_index } from './pgtable.ts';
import { PG_anon, PG_dirty } from './mm_types.ts';
import { huge_pte_user_access, is_hugetlb_pt_page } from './hugetlb.ts';
import { machine } from './machine.ts';
import { FAULT_FLAG_VMA_LOCK, VM_FAULT_RETRY } from './mm_types.ts';
import { access_error, handle_speculative_fault, lock_vma_under_rcu, vma_end_read, vma_lock_events } from './vma_lock.ts';

/**
 * do_user_addr_fault(): first without mmap_lock (the per-VMA lock, or in
 * 'spf' mode the speculative fault), else find the VMA under mmap_lock
 * (lock_mm_and_find_vma, which grows a stack down to the address),
 * check the access, and let handle_mm_fault() resolve it. Returns 0, or -EFAULT (SIGSEGV) or
 * -ENOMEM (VM_FAULT_OOM: the model fails the access instead of OOM-killing).
 */
export function* do_user_addr_fault(mm: MmStruct, address: number, write: boolean): KGen<number> {
  const flags = write ? FAULT_FLAG_WRITE : 0;
  if (machine().fault_mode === 'spf') {
    const fault = yield* handle_speculative_fault(mm, address, flags);
    if (fault !== VM_FAULT_RETRY) return fault_result(fault);
  } else {
    const vma = yield* lock_vma_under_rcu(mm, address);
    if (vma) {
      if (access_error(vma, write)) {
        yield* vma_end_read(vma);
        return -EFAULT; // bad_access_error
      }
      // We hold the VMA read-locked: vma_start_write() (munmap, mremap,
      // mprotect, fork's dup_mmap) waits for us before changing it.
      const fault = yield* handle_mm_fault(vma, address, flags | FAULT_FLAG_VMA_LOCK);
      yield* vma_end_read(vma);
      vma_lock_events().VMA_LOCK_SUCCESS++;
      return fault_result(fault);
    }
  }
  // lock_mmap: a fault below a stack comes here too (lock_vma_under_rcu finds no VMA there).
  const vma = yield* lock_mm_and_find_vma(mm, address);
  if (!vma) return -EFAULT; // bad_area_nosemaphore
  // Ok, we have a good vm_area for this memory access, so we can handle it..
  if (access_error(vma, write)) {
    yield* mmap_read_unlock(mm);
    return -EFAULT; // bad_area_access_error
  }
  const fault = yield* handle_mm_fault(vma, address, flags);
  yield* mmap_read_unlock(mm);
  return fault_result(fault);
}

function fault_result(fault: number): number {
  if (fault & VM_FAULT_OOM) return -ENOMEM;
  if (fault & VM_FAULT_ERROR) return -EFAULT;
  return 0;
}

/** A user load: the value read, or -errno in `err`. */
export interface AccessResult {
  readonly err: number;
  readonly value: number;
}

/**
 * A user load or store of word `word` of the page at `address`: the MMU's
 * walk and the access are one step; on a fault, handle it and retry the
 * instruction.
 */
export function* user_access(mm: MmStruct, address: number, word: number, write: boolean, value = 0): KGen<AccessResult> {
  for (;;) {
    yield write ? 'user store' : 'user load';
    const pmd = address >= 0 ? mm.pgd[pmd_index(address)] : undefined;
    // A huge PMD (a THP) maps the whole slot: the MMU walk stops at the PMD.
    if (pmd_trans_huge(pmd)) {
      if (pmd_access_permitted(pmd, write)) {
        const page = pfn_to_page(pmd.pfn + pte_index(address));
        if (!write) return { err: 0, value: page.data[word]! };
        page.data[word] = value;
        page_folio(page).flags |= PG_dirty;
        if (!pmd.dirty) mm.pgd[pmd_index(address)] = mk_huge_pmd(pmd.pfn, true, true);
        return { err: 0, value };
      }
      const err = yield* do_user_addr_fault(mm, address, write);
      if (err) return { err, value: 0 };
      continue;
    }
    // A PMD migration entry is not present: fault (and wait for the migration).
    const table = pmd_table(pmd);
    // A hugetlb page-table page holds one huge PTE for the whole slot.
    const huge = table && is_hugetlb_pt_page(table);
    const hit = huge ? huge_pte_user_access(table, address, word, write, value) : undefined;
    if (hit) return hit;
    const pte = huge ? undefined : table?.ptes[pte_index(address)];
    // The MMU checks the PTE's own permissions, not the VMA's: mprotect()
    // changes both, the VMA first, and only change_pte_range()'s PT-locked
    // update (and its TLB flush) takes the old rights away.
    if (pte && pte_access_permitted(pte, write)) {
      const folio = pfn_folio(pte.pfn);
      // A THP's subpage when its PMD was split; the folio itself otherwise.
      const page = folio.order ? folio.pages![pte.pfn - folio.pfn]! : folio;
      if (!write) return { err: 0, value: page.data[word]! };
      page.data[word] = value;
      // An anonymous folio is dirtied at once (the model's shortcut: its
      // flag is read only after an unmap, which would transfer the PTE's
      // bit anyway). A page-cache folio is not: its PTE's dirty bit moves to
      // the folio when the PTE goes (zap, try_to_unmap_one,
      // try_to_migrate_one), and reclaim drops a clean one.
      if (folio.flags & PG_anon) folio.flags |= PG_dirty;
      // The MMU sets the dirty bit itself, without the PT lock.
      if (!pte.dirty) table!.ptes[pte_index(address)] = mk_pte(pte.pfn, true, true);
      return { err: 0, value };
    }
    const err = yield* do_user_addr_fault(mm, address, write);
    if (err) return { err, value: 0 };
  }
}
