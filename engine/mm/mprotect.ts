/*
 * mm/mprotect.c for the model: split at the range ends, set the new
 * VM_READ/VM_WRITE, and change the PTEs. Making a private anon PTE writable
 * again is only allowed for an exclusive page (can_change_pte_writable()),
 * otherwise the next write must go through do_wp_page.
 * The kernel would also merge with neighbours afterwards; the model does not.
 */
import { spin_unlock } from '../locking/spinlock.ts';
import type { KGen } from '../sched/task.ts';
import { mmap_write_lock, mmap_write_unlock } from './mmap_lock.ts';
import { EINVAL, ENOMEM, TASK_SIZE, VM_READ, VM_SHARED, VM_WRITE, mk_pte, pte_wrprotect, type MmStruct, type VmArea } from './mm_types.ts';
import { calc_vm_prot_bits, find_vma, vma_modify_flags } from './mmap.ts';
import { pfn_folio } from './page_alloc.ts';
import { pmd_addr_end, pmd_index, pte_offset_map_lock, ptep_get, set_pte_at } from './pgtable.ts';
import { PageAnonExclusive, folio_test_anon } from './rmap.ts';
import { hugetlb_change_protection, is_vm_hugetlb_page } from './hugetlb.ts';

/** can_change_pte_writable(): a private anon PTE may be made writable only for an exclusive page. */
function can_change_pte_writable(vma: VmArea, pfn: number): boolean {
  if (!(vma.vm_flags & VM_WRITE)) return false;
  if (vma.vm_flags & VM_SHARED) return true;
  const folio = pfn_folio(pfn);
  return folio_test_anon(folio) && PageAnonExclusive(folio);
}

/** change_pte_range(): one table's PTEs, under its PT lock. */
function* change_pte_range(vma: VmArea, addr: number, end: number): KGen {
  const table = yield* pte_offset_map_lock(vma.vm_mm, addr);
  if (!table) return;
  for (; addr < end; addr++) {
    const pte = ptep_get(table, addr);
    if (pte.kind !== 'present') continue;
    if (!(vma.vm_flags & VM_WRITE)) set_pte_at(table, addr, pte_wrprotect(pte));
    else if (!pte.write && can_change_pte_writable(vma, pte.pfn)) set_pte_at(table, addr, mk_pte(pte.pfn, true, pte.dirty));
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
    if (vma.vm_mm.pgd[pmd_index(addr)]) yield* change_pte_range(vma, addr, next);
    addr = next;
  }
}

/**
 * mprotect_fixup(): give [start, end) of vma the flags newflags, splitting
 * off what lies outside. We enter with mmap_lock held for write.
 */
export function* mprotect_fixup(vma: VmArea, start: number, end: number, newflags: number): KGen<number> {
  if (newflags === vma.vm_flags) return 0;
  const r = yield* vma_modify_flags(vma, start, end, newflags);
  if (typeof r === 'number') return r;
  yield* change_protection(r, start, end);
  return 0;
}

/** do_mprotect_pkey(): the syscall. The whole range must be mapped. */
export function* sys_mprotect(mm: MmStruct, start: number, len: number, prot: number): KGen<number> {
  const end = start + len;
  if (len <= 0 || start < 0 || end > TASK_SIZE) return -EINVAL;
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
    ret = yield* mprotect_fixup(vma, addr, tmp, newflags);
    if (ret) break;
    addr = tmp;
  }
  yield* mmap_write_unlock(mm);
  return ret;
}
