/*
 * Faults without mmap_lock.
 *
 * 1. The reader side of the per-VMA locks (mm/mmap_lock.c, mm/memory.c):
 *    lock_vma_under_rcu(), vma_start_read(), vma_end_read(). The writer side,
 *    vma_start_write() and vma_end_write_all(), is in mmap_lock.ts.
 * 2. The speculative page fault of Laurent Dufour's RFC v5 (seed 002), the
 *    model's second fault mode (Machine.fault_mode 'spf'): no VMA lock at
 *    all; the fault samples vma->vm_sequence under RCU, prepares its PTE, and
 *    commits it only if the count is unchanged once the PT lock is held.
 *    Anything but a none PTE in an anon VMA with an anon_vma, or a
 *    write-protected exclusive anon page, goes back to the classic fault.
 */
import { rcu_read_lock, rcu_read_unlock } from '../locking/rcu.ts';
import { down_read_trylock, up_read } from '../locking/rwsem.ts';
import { raw_read_seqcount, read_seqcount_retry } from '../locking/seqcount.ts';
import { spin_trylock, spin_unlock } from '../locking/spinlock.ts';
import type { KGen } from '../sched/task.ts';
import { is_vm_hugetlb_page } from './hugetlb.ts';
import { machine } from './machine.ts';
import {
  FAULT_FLAG_WRITE,
  VM_FAULT_RETRY,
  VM_SHARED,
  VM_WRITE,
  ZERO_PFN,
  mk_pte,
  pte_none,
  pte_present,
  pte_same,
  vma_is_accessible,
  type MmStruct,
  type PtePresent,
  type PteTable,
  type VmArea,
  pmd_table,
} from './mm_types.ts';
import { vma_lookup } from './mmap.ts';
import { folio_alloc, folio_put, pfn_folio } from './page_alloc.ts';
import { mm_forbids_zeropage, pmd_index, ptep_get, set_pte_at } from './pgtable.ts';
import { PageAnonExclusive, folio_add_new_anon_rmap, folio_test_anon } from './rmap.ts';

/** count_vm_vma_lock_event() and the RFC's SPF counters, per Machine. */
export interface VmaLockEvents {
  VMA_LOCK_SUCCESS: number;
  VMA_LOCK_ABORT: number;
  SPF_SUCCESS: number;
  SPF_ABORT: number;
}

const events = new WeakMap<object, VmaLockEvents>();

export function vma_lock_events(): VmaLockEvents {
  const m = machine();
  let e = events.get(m);
  if (!e) {
    e = { VMA_LOCK_SUCCESS: 0, VMA_LOCK_ABORT: 0, SPF_SUCCESS: 0, SPF_ABORT: 0 };
    events.set(m, e);
  }
  return e;
}

/** vma_is_anonymous(): no vm_ops. hugetlbfs VMAs have a file and vm_ops. */
export function vma_is_anonymous(vma: VmArea): boolean {
  return vma.vm_file === undefined && !is_vm_hugetlb_page(vma);
}

/**
 * access_error() (arch/x86/mm/fault.c): does the VMA forbid this access? A
 * write needs VM_WRITE; a read needs any access at all (x86 cannot map a page
 * writable but not readable). A read of a protnone PTE faults with the
 * present bit clear, so it comes here, and a PROT_NONE VMA refuses it.
 */
export function access_error(vma: VmArea, write: boolean): boolean {
  if (write) return !(vma.vm_flags & VM_WRITE);
  return !vma_is_accessible(vma);
}

/* ------------------------------------------------------ per-VMA locks */

/**
 * vma_start_read(): read-lock the VMA unless a writer has it.
 * We enter inside an RCU read-side section (the VMA may be detached and
 * waiting for its free, but is not freed); true: we return with vma->vm_lock
 * held for read. The other side is vma_start_write() under mmap_lock for
 * write, which takes vm_lock for write and leaves vm_lock_seq == mm_lock_seq
 * until mmap_write_unlock().
 */
export function* vma_start_read(vma: VmArea): KGen<boolean> {
  const mm = vma.vm_mm;
  yield 'vma_start_read: READ_ONCE(vma->vm_lock_seq)';
  // Write-locked until mmap_write_unlock: no point in trying the lock.
  if (vma.vm_lock_seq === mm.mm_lock_seq) return false;
  if (!(yield* down_read_trylock(vma.vm_lock))) return false;
  // vma_start_write() may have come and gone between the check and the
  // trylock: the vm_lock_seq it left behind says the VMA is still its.
  if (vma.vm_lock_seq === mm.mm_lock_seq) {
    yield* up_read(vma.vm_lock);
    return false;
  }
  return true;
}

/** vma_end_read(): we enter with vma->vm_lock held for read; we return without it. */
export function* vma_end_read(vma: VmArea): KGen {
  yield* up_read(vma.vm_lock);
}

/**
 * lock_vma_under_rcu(): find the VMA at `address` and read-lock it without
 * mmap_lock. undefined: fall back to mmap_read_lock.
 * We enter with no lock; we return with the VMA read-locked, or nothing.
 * munmap may detach the VMA at any point after our tree walk: RCU keeps it
 * from being freed (remove_vma's call_rcu), vma_start_read refuses it while
 * munmap holds it write-locked, and the detached check refuses it after.
 */
export function* lock_vma_under_rcu(mm: MmStruct, address: number): KGen<VmArea | undefined> {
  rcu_read_lock();
  // mas_walk(): the VMA tree read under RCU only.
  yield 'lock_vma_under_rcu: mas_walk';
  const vma = vma_lookup(mm, address);
  if (!vma) return inval();
  // Only anonymous VMAs are supported (as in 6.4): hugetlb faults keep mmap_lock.
  if (!vma_is_anonymous(vma)) return inval();
  if (!(yield* vma_start_read(vma))) return inval();
  // Check if the VMA got isolated after we found it.
  if (vma.detached || address < vma.vm_start || address >= vma.vm_end) return yield* inval_end_read(vma);
  // vmf_anon_prepare(): anon_vma_prepare()'s find_mergeable_anon_vma looks at
  // neighbouring VMAs, which we have not locked.
  if (!vma.anon_vma) return yield* inval_end_read(vma);
  rcu_read_unlock();
  return vma;
}

function inval(): undefined {
  rcu_read_unlock();
  vma_lock_events().VMA_LOCK_ABORT++;
  return undefined;
}

function* inval_end_read(vma: VmArea): KGen<undefined> {
  yield* vma_end_read(vma);
  return inval();
}

/* ------------------------------------------- speculative page faults */

/** What the speculative fault sampled: the RFC's vmf->sequence. */
interface SpfFault {
  readonly vma: VmArea;
  readonly address: number;
  readonly flags: number;
  readonly sequence: number;
  readonly table: PteTable;
}

/**
 * vma_has_changed(): has a writer been at the VMA since we sampled
 * vm_sequence, or has it left the tree?
 */
function* vma_has_changed(f: SpfFault): KGen<boolean> {
  const moved = yield* read_seqcount_retry(f.vma.vm_sequence, f.sequence);
  return moved || f.vma.detached;
}

/**
 * pte_map_lock(): take the PT lock of the table we walked to, if nothing
 * changed. A trylock: in the RFC the walk runs with IRQs off (that is what
 * keeps the page tables alive), and spinning there could deadlock against the
 * TLB-flush IPI of the very munmap we race with. The count is checked again
 * once the lock is held: munmap's zap and mprotect's change_protection take
 * this lock after making vm_sequence odd, so from here on they wait for us.
 * true: we return with the PT lock held.
 */
function* pte_map_lock(f: SpfFault): KGen<boolean> {
  const mm = f.vma.vm_mm;
  if (yield* vma_has_changed(f)) return false;
  yield 'pte_map_lock: pmd_same';
  if (mm.pgd[pmd_index(f.address)] !== f.table) return false;
  if (!(yield* spin_trylock(f.table.ptl))) return false;
  if (yield* vma_has_changed(f)) {
    yield* spin_unlock(f.table.ptl);
    return false;
  }
  return true;
}

/**
 * handle_speculative_fault(): try the fault without mmap_lock.
 * We enter with no lock; we return with none. VM_FAULT_RETRY: do the
 * classic fault under mmap_lock; otherwise the fault is done (0 or
 * VM_FAULT_* bits) and the access is retried.
 */
export function* handle_speculative_fault(mm: MmStruct, address: number, flags: number): KGen<number> {
  rcu_read_lock();
  const ret = yield* __handle_speculative_fault(mm, address, flags);
  rcu_read_unlock();
  vma_lock_events()[ret === VM_FAULT_RETRY ? 'SPF_ABORT' : 'SPF_SUCCESS']++;
  return ret;
}

function* __handle_speculative_fault(mm: MmStruct, address: number, flags: number): KGen<number> {
  // find_vma_srcu(): the tree read without mmap_lock.
  yield 'handle_speculative_fault: find_vma_rcu';
  const vma = vma_lookup(mm, address);
  if (!vma) return VM_FAULT_RETRY;
  const sequence = yield* raw_read_seqcount(vma.vm_sequence);
  // Odd: a writer is changing the VMA right now.
  if (sequence & 1) return VM_FAULT_RETRY;
  // A VMA born write-locked (split, mremap's target, fork's child) never had
  // an odd count: its vm_lock_seq says a writer still owns it.
  if (vma.vm_lock_seq === mm.mm_lock_seq || vma.detached) return VM_FAULT_RETRY;
  // What we check from here on is only stable since we sampled the count: a
  // munmap that split the VMA between our lookup and the sample left it
  // even again, and no longer covering the address.
  if (address < vma.vm_start || address >= vma.vm_end) return VM_FAULT_RETRY;
  // Only anon VMAs that already have an anon_vma: anon_vma_prepare() needs mmap_lock.
  if (!vma_is_anonymous(vma) || !vma.anon_vma || vma.vm_flags & VM_SHARED) return VM_FAULT_RETRY;
  // The classic path reports the SIGSEGV.
  if (access_error(vma, (flags & FAULT_FLAG_WRITE) !== 0)) return VM_FAULT_RETRY;
  // No page-table allocation speculatively.
  yield 'handle_speculative_fault: read pmd';
  // No THPs speculatively either: a huge PMD goes to the classic fault.
  const table = pmd_table(mm.pgd[pmd_index(address)]);
  if (!table) return VM_FAULT_RETRY;
  const f: SpfFault = { vma, address, flags, sequence, table };
  yield 'handle_speculative_fault: ptep_get_lockless';
  const orig = ptep_get(table, address);
  if (pte_none(orig)) return yield* spf_anonymous_page(f);
  if (pte_present(orig) && flags & FAULT_FLAG_WRITE && !orig.write) return yield* spf_wp_page(f, orig);
  return VM_FAULT_RETRY;
}

/**
 * do_anonymous_page() speculatively: the folio and the PTE are prepared from
 * what we read of the VMA (vm_flags) without a lock, and committed only if
 * pte_map_lock() says the VMA did not change meanwhile.
 */
function* spf_anonymous_page(f: SpfFault): KGen<number> {
  // Use the zero-page for reads (the RFC's do_anonymous_page: under pte_map_lock too).
  if (!(f.flags & FAULT_FLAG_WRITE) && !mm_forbids_zeropage(f.vma.vm_mm)) {
    if (!(yield* pte_map_lock(f))) return VM_FAULT_RETRY;
    if (pte_none(ptep_get(f.table, f.address))) set_pte_at(f.table, f.address, mk_pte(ZERO_PFN, false, false));
    yield* spin_unlock(f.table.ptl);
    return 0;
  }
  const folio = folio_alloc();
  if (!folio) return VM_FAULT_RETRY;
  folio.data.fill(0);
  const writable = (f.vma.vm_flags & VM_WRITE) !== 0;
  const entry = mk_pte(folio.pfn, writable, writable);
  if (!(yield* pte_map_lock(f))) {
    folio_put(folio);
    return VM_FAULT_RETRY;
  }
  if (!pte_none(ptep_get(f.table, f.address))) {
    // Another thread faulted it in first.
    yield* spin_unlock(f.table.ptl);
    folio_put(folio);
    return 0;
  }
  folio_add_new_anon_rmap(folio, f.vma, f.address, true);
  set_pte_at(f.table, f.address, entry);
  yield* spin_unlock(f.table.ptl);
  return 0;
}

/**
 * do_wp_page() speculatively, the reuse case only: an exclusive anon page
 * mapped R/O is made writable in place. Anything that needs a copy goes back
 * to the classic fault.
 */
function* spf_wp_page(f: SpfFault, orig: PtePresent): KGen<number> {
  if (!(yield* pte_map_lock(f))) return VM_FAULT_RETRY;
  if (!pte_same(ptep_get(f.table, f.address), orig)) {
    yield* spin_unlock(f.table.ptl);
    return 0;
  }
  // Under the PT lock the mapped folio cannot go away.
  const folio = pfn_folio(orig.pfn);
  if (!folio_test_anon(folio) || !PageAnonExclusive(folio)) {
    yield* spin_unlock(f.table.ptl);
    return VM_FAULT_RETRY;
  }
  set_pte_at(f.table, f.address, mk_pte(orig.pfn, true, true));
  yield* spin_unlock(f.table.ptl);
  return 0;
}
