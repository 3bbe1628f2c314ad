/*
 * mm/mprotect.c for the model: split at the range ends, set the new
 * VM_READ/VM_WRITE, and change the PTEs to the VMA's new protection
 * (vm_page_prot): PAGE_NONE makes them protnone, a read-only VMA makes them
 * read-only. Making a private anon PTE writable again is only allowed for an
 * exclusive page (can_change_pte_writable()), otherwise the next write must
 * go through do_wp_page.
 * The range merges with a neighbour whose flags it now has (vma_modify_flags,
 * vma.ts), as mprotect-then-undo does in the kernel.
 */
import { spin_unlock } from '../locking/spinlock.ts';
import type { KGen } from '../sched/task.ts';
import { mmap_write_lock, mmap_write_unlock, vma_start_write } from './mmap_lock.ts';
import {
  EINVAL,
  ENOMEM,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  HPAGE_PMD_NR,
  pmd_is_huge,
  mk_pte,
  pte_protnone,
  pte_same,
  vma_is_accessible,
  type MmStruct,
  type PtePresent,
  type VmArea,
} from './mm_types.ts';
import { calc_vm_prot_bits, find_vma } from './mmap.ts';
import { vma_modify_flags, vma_modify_prev } from './vma.ts';
import { pfn_folio, pfn_to_page } from './page_alloc.ts';
import { __split_huge_pmd, change_huge_pmd } from './huge_memory.ts';
import { pmd_addr_end, pmd_index, pte_offset_map_lock, ptep_get, set_pte_at } from './pgtable.ts';
import { PageAnonExclusive, folio_test_anon } from './rmap.ts';
import { hugetlb_change_protection, is_vm_hugetlb_page } from './hugetlb.ts';

/**
 * can_change_pte_writable(): a private anon PTE may be made writable only
 * for an exclusive page; a shared mapping's PTE as it is. Never a protnone
 * PTE: it is not even readable.
 */
function can_change_pte_writable(vma: VmArea, pte: PtePresent): boolean {
  if (!(vma.vm_flags & VM_WRITE)) return false;
  if (pte_protnone(pte)) return false;
  if (vma.vm_flags & VM_SHARED) return true;
  const folio = pfn_folio(pte.pfn);
  // The subpage's bit for a PTE-mapped THP.
  return folio_test_anon(folio) && PageAnonExclusive(pfn_to_page(pte.pfn));
}

/**
 * pte_modify(oldpte, vma->vm_page_prot): the page and its dirty bit stay;
 * the protection is the VMA's: PAGE_NONE if it allows no access, writable
 * only for a shared writable mapping (a private mapping's vm_page_prot is
 * read-only: COW decides when a write may go straight through).
 */
function pte_modify(pte: PtePresent, vma: VmArea): PtePresent {
  const write = (vma.vm_flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE);
  return mk_pte(pte.pfn, write, pte.dirty, !vma_is_accessible(vma));
}

/**
 * change_pte_range(): one table's PTEs, under its PT lock. The VMA already
 * has its new flags: a fault or a rmap walker that takes this PT lock after
 * us sees the new protection in both.
 */
function* change_pte_range(vma: VmArea, addr: number, end: number): KGen {
  const table = yield* pte_offset_map_lock(vma.vm_mm, addr);
  if (!table) return;
  for (; addr < end; addr++) {
    const oldpte = ptep_get(table, addr);
    if (oldpte.kind === 'present') {
      let ptent = pte_modify(oldpte, vma);
      // MM_CP_TRY_CHANGE_WRITABLE (vma_wants_manual_pte_write_upgrade): a
      // writable private mapping avoids the write fault where COW allows.
      if (!ptent.write && can_change_pte_writable(vma, ptent)) ptent = mk_pte(ptent.pfn, true, ptent.dirty);
      // Entries are values: an unchanged one stays the same object, as
      // GUP-fast's lockless recheck compares them (pte_val) by identity.
      if (!pte_same(ptent, oldpte)) set_pte_at(table, addr, ptent);
    } else if (oldpte.kind === 'migration' && oldpte.mode === 'write') {
      // A protection check is difficult so just be safe and disable write:
      // remove_migration_pte() maps the new page writable only for a
      // writable entry. The model migrates anon folios only.
      set_pte_at(table, addr, { kind: 'migration', pfn: oldpte.pfn, mode: 'read-exclusive' });
    }
    // Swap entries keep no protection: do_swap_page() and unuse_pte() map
    // the page with the VMA's protection of their time.
  }
  yield* spin_unlock(table.ptl);
}

/** change_protection(): walk [start, end) of the VMA, table by table. */
export function* change_protection(vma: VmArea, start: number, end: number): KGen {
  if (is_vm_hugetlb_page(vma)) {
    yield* hugetlb_change_protection(vma, start, end);
    return;
  }
  for (let addr = start; addr < end; ) {
    const next = pmd_addr_end(addr, end);
    yield 'change_pmd_range: read pmd';
    if (pmd_is_huge(vma.vm_mm.pgd[pmd_index(addr)])) {
      // A huge PMD (or PMD migration entry) the range covers whole changes as one; one it covers in part is split first.
      if (next - addr !== HPAGE_PMD_NR) yield* __split_huge_pmd(vma, addr);
      else if (yield* change_huge_pmd(vma, addr)) {
        addr = next;
        continue;
      }
      // fall through, the trans huge pmd just split
    }
    if (vma.vm_mm.pgd[pmd_index(addr)]) yield* change_pte_range(vma, addr, next);
    addr = next;
  }
}

/**
 * mprotect_fixup(): give [start, end) of vma the flags newflags: merged into
 * a neighbour that has them, or split off from what lies outside. prev is
 * the VMA before vma, or vma itself when start lies inside it.
 * We enter with mmap_lock held for write.
 */
export function* mprotect_fixup(vma: VmArea, prev: VmArea | undefined, start: number, end: number, newflags: number): KGen<number> {
  if (newflags === vma.vm_flags) return 0;
  const r = yield* vma_modify_flags(prev, vma, start, end, newflags);
  if (typeof r === 'number') return r;
  yield* vma_start_write(r);
  r.vm_flags = newflags; // vm_flags_reset_once()
  yield* change_protection(r, start, end);
  return 0;
}

/**
 * do_mprotect_pkey(): the syscall. The whole range must be mapped (-ENOMEM
 * where it is not, as for a range beyond TASK_SIZE); a zero length does
 * nothing and succeeds.
 */
export function* sys_mprotect(mm: MmStruct, start: number, len: number, prot: number): KGen<number> {
  if (start < 0 || len < 0) return -EINVAL;
  if (!len) return 0;
  const end = start + len;
  yield* mmap_write_lock(mm);
  let ret = 0;
  let addr = start;
  while (addr < end) {
    const vma = find_vma(mm, addr);
    if (!vma || vma.vm_start > addr) {
      ret = -ENOMEM;
      break;
    }
    const newflags = (vma.vm_flags & ~(VM_READ | VM_WRITE)) | calc_vm_prot_bits(prot);
    const tmp = Math.min(end, vma.vm_end);
    ret = yield* mprotect_fixup(vma, vma_modify_prev(vma, addr), addr, tmp, newflags);
    if (ret) break;
    addr = tmp;
  }
  yield* mmap_write_unlock(mm);
  return ret;
}
