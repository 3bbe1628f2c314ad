// The setup shared by the test/engine/mm/rmap.*.spec.ts files.
import assert from 'node:assert/strict';
import { currentStep, type KGen } from '../../../engine/index.ts';
import { bit_lock, bit_unlock } from '../../../engine/locking/bitlock.ts';
import { down_write, up_read, up_write } from '../../../engine/locking/rwsem.ts';
import { dup_mm } from '../../../engine/kernel/fork.ts';
import { AnonVma, Folio, MmStruct, VmArea, VM_MAYWRITE, VM_READ, VM_WRITE } from '../../../engine/mm/mm_types.ts';
import { folio_lock_anon_vma_read, rmap_walk } from '../../../engine/mm/rmap.ts';
import { folioAt, kernel, mapped, store } from '../harness.ts';

export const RWFLAGS = VM_READ | VM_WRITE | VM_MAYWRITE;

/** Every (vma owner, address) rmap_walk visits for the folio, in order. */
export function* walk(folio: Folio, o: { stopAfter?: number; skip?: (v: VmArea) => boolean; done?: () => boolean } = {}): KGen<string[]> {
  const seen: string[] = [];
  yield* bit_lock(folio.lock);
  yield* rmap_walk(folio, {
    *rmap_one(_f, vma, address) {
      seen.push(`${vma.vm_mm.owner}@${address}`);
      return o.stopAfter === undefined || seen.length < o.stopAfter;
    },
    invalid_vma: o.skip,
    done: o.done,
  });
  yield* bit_unlock(folio.lock);
  return seen;
}

export function* fork(mm: MmStruct, owner = 'P1'): KGen<MmStruct> {
  const c = yield* dup_mm(mm, owner);
  assert.equal(typeof c, 'object');
  return c as MmStruct;
}


/**
 * T0 maps a page and holds its anon_vma lock for write across a yield; T1
 * then locks the folio and asks for its anon_vma. Without a switch T1 runs
 * after T0; with a switch to T1 right after T0 took the lock, T1's trylock
 * fails and it sleeps on the lock.
 */
export function contendedWalk(switchAt: number | undefined): { violation: { message: string } | undefined; seen: string[]; holdAt: number; refcount: number } {
  const seen: string[] = [];
  let folio: Folio | undefined;
  let av: AnonVma | undefined;
  let holdAt = -1;
  const r = kernel(
    {
      T0: function* () {
        const { mm, addr } = yield* mapped(3);
        yield* store(mm, addr, 1);
        folio = folioAt(mm, addr);
        av = mm.mmap[0]!.anon_vma!;
        yield* down_write(av.root.rwsem);
        holdAt = currentStep();
        yield 'holding the anon_vma lock';
        yield* up_write(av.root.rwsem);
      },
      T1: function* () {
        yield* bit_lock(folio!.lock);
        const contended = av!.root.rwsem.isLocked();
        const got = yield* folio_lock_anon_vma_read(folio!);
        if (contended) seen.push('slept');
        if (got) {
          assert.equal(got, av);
          seen.push('walked');
          yield* up_read(got.root.rwsem);
        }
        yield* bit_unlock(folio!.lock);
      },
    },
    { schedule: switchAt === undefined ? [] : [{ step: switchAt, task: 1 }] },
  );
  return { violation: r.violation, seen, holdAt, refcount: av?.refcount ?? -1 };
}
