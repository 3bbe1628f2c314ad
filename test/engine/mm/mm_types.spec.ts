import assert from 'node:assert/strict';
import { MMAP_BASE, PTE_NONE, PTRS_PER_PMD, PTRS_PER_PTE, STACK_TOP, TASK_SIZE, VM_EXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE, VmArea, is_cow_mapping, mk_pte, pte_access_permitted, pte_mkdirty, pte_mkwrite, pte_none, pte_present, pte_protnone, pte_same, pte_to_string, pte_wrprotect, pte_write, vma_is_accessible, type Pte } from '../../../engine/mm/mm_types.ts';
import { pmd_addr_end, pmd_index, pte_index } from '../../../engine/mm/pgtable.ts';

const swap = (type: number, offset: number, exclusive: boolean): Pte => ({ kind: 'swap', type, offset, exclusive });
const mig = (pfn: number, mode: 'read' | 'read-exclusive' | 'write'): Pte => ({ kind: 'migration', pfn, mode });

describe('engine/mm/mm_types: PTE values and geometry (mm_types, pgtable)', () => {
  it('geometry: the PMD level covers the address space; the stack and mmap_base sit below TASK_SIZE', () => {
    assert.equal(PTRS_PER_PMD * PTRS_PER_PTE, TASK_SIZE);
    assert.equal(PTRS_PER_PMD, 16);
    assert.equal(STACK_TOP, TASK_SIZE - 2 * PTRS_PER_PTE);
    assert.equal(MMAP_BASE, STACK_TOP - PTRS_PER_PTE);
    assert.deepEqual([pmd_index(0), pmd_index(15), pmd_index(16), pmd_index(255)], [0, 0, 1, 15]);
    assert.deepEqual([pte_index(0), pte_index(17), pte_index(255)], [0, 1, 15]);
    // pmd_addr_end stops at the next table boundary, or at end if that comes first.
    assert.deepEqual([pmd_addr_end(3, 40), pmd_addr_end(3, 10), pmd_addr_end(3, 16), pmd_addr_end(16, 40)], [16, 10, 16, 32]);
  });

  it('is_cow_mapping: private and may-write, not shared', () => {
    assert.equal(is_cow_mapping(VM_MAYWRITE), true);
    assert.equal(is_cow_mapping(VM_MAYWRITE | VM_WRITE), true);
    assert.equal(is_cow_mapping(VM_MAYWRITE | VM_SHARED), false);
    assert.equal(is_cow_mapping(0), false);
    assert.equal(is_cow_mapping(VM_SHARED), false);
  });

  it('mk_pte, pte_wrprotect, pte_mkwrite, pte_mkdirty, the predicates', () => {
    assert.deepEqual(mk_pte(3, true), { kind: 'present', pfn: 3, write: true, dirty: true, protnone: false });
    assert.deepEqual(mk_pte(3, false), { kind: 'present', pfn: 3, write: false, dirty: false, protnone: false });
    assert.deepEqual(mk_pte(3, false, true), { kind: 'present', pfn: 3, write: false, dirty: true, protnone: false });
    const w = mk_pte(4, true, false);
    assert.deepEqual(pte_wrprotect(w), { kind: 'present', pfn: 4, write: false, dirty: false, protnone: false });
    const r = mk_pte(4, false, true);
    assert.equal(pte_wrprotect(r), r);
    assert.deepEqual(pte_mkwrite(mk_pte(5, false, false)), { kind: 'present', pfn: 5, write: true, dirty: true, protnone: false });
    assert.deepEqual(pte_mkdirty(mk_pte(6, false, false)), { kind: 'present', pfn: 6, write: false, dirty: true, protnone: false });
    assert.deepEqual(pte_mkdirty(mk_pte(6, true, false)), { kind: 'present', pfn: 6, write: true, dirty: true, protnone: false });
    const d = mk_pte(6, true, true);
    assert.equal(pte_mkdirty(d), d);
    assert.equal(pte_none(PTE_NONE), true);
    assert.equal(pte_none(mk_pte(1, true)), false);
    assert.equal(pte_present(mk_pte(1, true)), true);
    assert.equal(pte_present(PTE_NONE), false);
    assert.equal(pte_present(mig(1, 'read')), false);
    assert.equal(pte_write(mk_pte(1, true)), true);
    assert.equal(pte_write(mk_pte(1, false)), false);
    assert.equal(pte_write(mig(1, 'write')), false);
    assert.equal(pte_write(PTE_NONE), false);
  });

  it('protnone: kept by the modifiers, present for the kernel, no access for the MMU or GUP-fast', () => {
    const n = mk_pte(7, false, true, true);
    assert.deepEqual(n, { kind: 'present', pfn: 7, write: false, dirty: true, protnone: true });
    assert.equal(pte_protnone(n), true);
    assert.equal(pte_protnone(mk_pte(7, false, true)), false);
    assert.equal(pte_protnone(mig(7, 'read')), false);
    assert.equal(pte_present(n), true);
    assert.equal(pte_mkdirty(mk_pte(7, false, false, true)).protnone, true);
    assert.equal(pte_mkwrite(n).protnone, true);
    assert.equal(pte_wrprotect(mk_pte(7, true, true, true)).protnone, true);
    assert.equal(pte_same(n, mk_pte(7, false, true)), false);
    assert.equal(pte_to_string(n), 'pfn 7 NONED');
    // [read, write] for: R/W, R/O, protnone, and the non-present kinds.
    const access = (p: Pte): boolean[] => [pte_access_permitted(p, false), pte_access_permitted(p, true)];
    assert.deepEqual(access(mk_pte(1, true)), [true, true]);
    assert.deepEqual(access(mk_pte(1, false)), [true, false]);
    assert.deepEqual(access(mk_pte(1, true, true, true)), [false, false]);
    assert.deepEqual(access(PTE_NONE), [false, false]);
    assert.deepEqual(access(swap(1, 2, true)), [false, false]);
    assert.deepEqual(access(mig(1, 'write')), [false, false]);
  });

  it('vma_is_accessible: any of VM_READ, VM_WRITE, VM_EXEC', () => {
    const vma = (flags: number): VmArea => ({ vm_flags: flags }) as VmArea;
    assert.deepEqual(
      [0, VM_READ, VM_WRITE, VM_EXEC, VM_READ | VM_WRITE, VM_MAYREAD | VM_MAYWRITE | VM_SHARED].map((f) => vma_is_accessible(vma(f))),
      [false, true, true, true, true, false],
    );
  });

  it('pte_same compares every field of every kind', () => {
    assert.equal(pte_same(PTE_NONE, { kind: 'none' }), true);
    assert.equal(pte_same(PTE_NONE, mk_pte(1, false)), false);
    assert.equal(pte_same(mk_pte(1, true, true), mk_pte(1, true, true)), true);
    assert.equal(pte_same(mk_pte(1, true, true), mk_pte(2, true, true)), false);
    assert.equal(pte_same(mk_pte(1, true, true), mk_pte(1, false, true)), false);
    assert.equal(pte_same(mk_pte(1, true, true), mk_pte(1, true, false)), false);
    assert.equal(pte_same(mk_pte(1, false, true, true), mk_pte(1, false, true, true)), true);
    assert.equal(pte_same(mk_pte(1, false, true, true), mk_pte(1, false, true)), false);
    assert.equal(pte_same(swap(1, 2, true), swap(1, 2, true)), true);
    assert.equal(pte_same(swap(1, 2, true), swap(0, 2, true)), false);
    assert.equal(pte_same(swap(1, 2, true), swap(1, 3, true)), false);
    assert.equal(pte_same(swap(1, 2, true), swap(1, 2, false)), false);
    assert.equal(pte_same(mig(1, 'read'), mig(1, 'read')), true);
    assert.equal(pte_same(mig(1, 'read'), mig(2, 'read')), false);
    assert.equal(pte_same(mig(1, 'read'), mig(1, 'write')), false);
    assert.equal(pte_same(mig(1, 'read'), mk_pte(1, false)), false);
  });

  it('pte_to_string names each kind', () => {
    assert.deepEqual(
      [PTE_NONE, mk_pte(3, true, true), mk_pte(3, false, false), swap(1, 7, true), swap(1, 7, false), mig(2, 'read-exclusive')].map(pte_to_string),
      ['none', 'pfn 3 WD', 'pfn 3 R', 'swap 1:7 excl', 'swap 1:7', 'migration pfn 2 read-exclusive'],
    );
  });
});
