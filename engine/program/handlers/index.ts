/**
 * The dispatch: every op kind of the program language to its handler, by
 * family. Kernel threads have no mm: they run the ops that need none
 * (swap devices, reclaim, migration, exit), and anything else fails with
 * -EINVAL, as it would with no address space to name.
 */
import { EINVAL } from '../../mm/mm_types.ts';
import type { KGen } from '../../sched/task.ts';
import { execArgv } from '../abi.ts';
import type { Outcome } from '../history.ts';
import type { Op, OpKind } from '../ops.ts';
import { madvise, mmap, mprotect, mremap, munmap, read, write } from './address-space.ts';
import type { Handler, KernelHandler, OpEnv, RunState } from './env.ts';
import { hugetlbCreate, hugetlbMmap, hugetlbPunch, hugetlbTruncate, inHugePages } from './hugetlbfs.ts';
import { exit, migrate, reclaim } from './kthreads.ts';
import { memfdCreate, memfdMmap, memfdPunch, memfdTruncate } from './memfd.ts';
import { pin, pinRead, pinWrite, unpin } from './pins.ts';
import { get, getRead, put } from './refs.ts';
import { exec, fork } from './process.ts';
import { swapoff, swapon } from './swap.ts';

type KernelOpKind = 'swapon' | 'swapoff' | 'reclaim' | 'migrate' | 'exit';

const KERNEL_HANDLERS: { readonly [K in KernelOpKind]: KernelHandler<K> } = { swapon, swapoff, reclaim, migrate, exit };

/** A kernel op run by a user thread: the same handler, its address space unused. */
function fromUser<K extends KernelOpKind>(h: KernelHandler<K>): Handler<K> {
  return (env, op) => h(env.run, op);
}

const HANDLERS: { readonly [K in OpKind]: Handler<K> } = {
  mmap,
  munmap,
  mremap,
  mprotect,
  madvise,
  read,
  write,
  fork,
  exec,
  exit: fromUser(exit),
  pin,
  pinRead,
  pinWrite,
  unpin,
  get,
  getRead,
  put,
  swapon: fromUser(swapon),
  swapoff: fromUser(swapoff),
  reclaim: fromUser(reclaim),
  migrate: fromUser(migrate),
  hugetlbCreate,
  hugetlbMmap,
  hugetlbPunch,
  hugetlbTruncate,
  memfdCreate,
  memfdMmap,
  memfdTruncate,
  memfdPunch,
};

/** Run one op of a user thread in its address space (env.space; exec replaces it). */
export function runUserOp(env: OpEnv, op: Op): KGen<Outcome> {
  const o = inHugePages(env.space, op);
  return (HANDLERS[o.op] as Handler<OpKind>)(env, o as never);
}

/** Run one op of a kernel thread. */
export function runKernelOp(run: RunState, op: Op): KGen<Outcome> {
  const h = (KERNEL_HANDLERS as Partial<Record<OpKind, KernelHandler<KernelOpKind>>>)[op.op];
  return h ? h(run, op as never) : noMm(op);
}

function* noMm(op: Op): KGen<Outcome> {
  // What user space passed, even to an exec that never got to copy it.
  return op.op === 'exec' ? { result: -EINVAL, argv: execArgv(Math.max(1, op.args)) } : { result: -EINVAL };
}

export type { OpEnv, RunState } from './env.ts';
export { swapoff_all } from './swap.ts';
