import assert from 'node:assert/strict';
import type { KGen } from '../../../engine/index.ts';
import { i_mmap_assert_write_locked, i_mmap_lock_read, i_mmap_lock_write, i_mmap_unlock_read, i_mmap_unlock_write, vma_interval_tree_foreach, vma_interval_tree_remove } from '../../../engine/fs/fs.ts';
import { hugetlbfs_create, hugetlbfs_lookup, vm_mmap_hugetlbfs } from '../../../engine/fs/hugetlbfs.ts';
import { dup_mm, mm_alloc, mmput } from '../../../engine/kernel/fork.ts';
import { HPAGE_NR_PAGES } from '../../../engine/mm/hugetlb.ts';
import type { MmStruct, VmArea } from '../../../engine/mm/mm_types.ts';
import { vm_munmap } from '../../../engine/mm/mmap.ts';
import { sys_mprotect } from '../../../engine/mm/mprotect.ts';
import { RO, RW, run, violates } from '../harness.ts';

const H = HPAGE_NR_PAGES;
const i_mmap = () => hugetlbfs_lookup(0)!.f_mapping.i_mmap;
/** [owner, vm_pgoff, pages] of each VMA in file 0's i_mmap, in tree order. */
const tree = () => i_mmap().map((v) => [v.vm_mm.owner, v.vm_pgoff, v.vm_end - v.vm_start]);

function* hmap(owner: string, hpage: number, hpages: number): KGen<{ mm: MmStruct; a: number }> {
  const mm = mm_alloc(owner);
  const a = yield* vm_mmap_hugetlbfs(mm, 0, hpages * H, RW, hpage * H);
  assert.ok(a > 0, `mmap: ${a}`);
  return { mm, a };
}

describe('engine/fs/fs: the i_mmap tree of a file and its rwsem', () => {
  it('a mapping joins the tree by vm_pgoff, after equal keys; munmap takes it out', () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 4 * H), 0);
      const p = yield* hmap('P', 2, 1);
      const q = yield* hmap('Q', 0, 2);
      const r = yield* hmap('R', 0, 1);
      assert.deepEqual(tree(), [['Q', 0, 2 * H], ['R', 0, H], ['P', 2 * H, H]]);
      assert.deepEqual(vma_interval_tree_foreach(hugetlbfs_lookup(0)!.f_mapping, H, H).map((v) => v.vm_mm.owner), ['Q'], 'file page H: only Q maps it');
      assert.deepEqual(vma_interval_tree_foreach(hugetlbfs_lookup(0)!.f_mapping, 0, 3 * H).map((v) => v.vm_mm.owner), ['Q', 'R', 'P']);
      assert.equal(yield* vm_munmap(q.mm, q.a, 2 * H), 0);
      assert.deepEqual(tree(), [['R', 0, H], ['P', 2 * H, H]]);
      yield* mmput(p.mm);
      yield* mmput(r.mm);
      assert.deepEqual(tree(), [], 'exit unlinks every file VMA');
    });
  });

  it("fork puts the child's VMA right after its parent's; a split keeps both halves in the tree", () => {
    run(function* () {
      assert.equal(yield* hugetlbfs_create(0, 2 * H), 0);
      const p = yield* hmap('P', 0, 2);
      const q = yield* hmap('Q', 0, 1);
      const c = (yield* dup_mm(p.mm, 'C')) as MmStruct;
      assert.equal(typeof c, 'object');
      assert.deepEqual(tree(), [['P', 0, 2 * H], ['C', 0, 2 * H], ['Q', 0, H]]);
      assert.equal(yield* sys_mprotect(c, c.mmap[0]!.vm_start + H, H, RO), 0);
      assert.deepEqual(tree(), [['P', 0, 2 * H], ['Q', 0, H], ['C', 0, H], ['C', H, H]], 'both halves of the split, by pgoff');
      yield* mmput(c);
      yield* mmput(p.mm);
      yield* mmput(q.mm);
    });
  });

  it('removing a VMA the tree does not hold is a BUG', () => {
    violates(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const p = yield* hmap('P', 0, 1);
      const v: VmArea = p.mm.mmap[0]!;
      vma_interval_tree_remove(v, v.vm_file!.f_mapping);
      vma_interval_tree_remove(v, v.vm_file!.f_mapping);
    }, 'kernel-bug', /vma_interval_tree_remove/);
  });

  it('i_mmap_assert_write_locked WARNs unless i_mmap_rwsem is held for write by the caller', () => {
    const r = run(function* () {
      assert.equal(yield* hugetlbfs_create(0, H), 0);
      const mapping = hugetlbfs_lookup(0)!.f_mapping;
      i_mmap_assert_write_locked(mapping, 'unlocked');
      yield* i_mmap_lock_read(mapping);
      i_mmap_assert_write_locked(mapping, 'read-locked');
      yield* i_mmap_unlock_read(mapping);
      yield* i_mmap_lock_write(mapping);
      i_mmap_assert_write_locked(mapping, 'write-locked');
      yield* i_mmap_unlock_write(mapping);
    });
    assert.equal(r.warnings.length, 2, r.warnings.join('; '));
    assert.match(r.warnings[0]!, /unlocked: i_mmap_rwsem\(.*\) not held for write/);
    assert.match(r.warnings[1]!, /read-locked: /);
  });
});
