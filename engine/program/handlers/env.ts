/**
 * What an op handler runs with. A handler is one syscall (or device access)
 * of the program language, as user space makes it: it resolves the op's
 * region to addresses, calls the model's kernel entry point, and returns
 * what user space saw, typed by the op's kind (history.ts's Outcome<K>).
 * The thread loop (executor.ts) turns that into the op's record.
 */
import type { MmStruct } from '../../mm/mm_types.ts';
import { PROT_READ, PROT_WRITE } from '../../mm/mmap.ts';
import type { KGen } from '../../sched/task.ts';
import type { Outcome } from '../history.ts';
import type { Op, OpKind, Program, Prot } from '../ops.ts';
import type { RunContext } from '../run-context.ts';
import type { RegionInfo, UserSpace } from '../userspace.ts';

/** The executor's per-run state that handlers share. */
export interface RunState {
  readonly ctx: RunContext;
  readonly program: Program;
  /** Child processes already forked: each program process starts once. */
  readonly forked: Set<number>;
  /** Swap devices by the program's handle: handle -> swap type (-1 while its swapon runs). */
  readonly devices: Map<number, number>;
  /** The next pin's serial id. */
  pinIds: number;
  refIds: number;
  /** Give process pid its address space and start its threads on it. */
  startProcess(pid: number, mm: MmStruct): UserSpace;
  /** A thread leaves an address space (exit or exec). */
  leave(us: UserSpace): void;
}

/** One thread's view while it runs an op: exec replaces its address space. */
export interface OpEnv {
  readonly run: RunState;
  space: UserSpace;
}

export type OpOf<K extends OpKind> = Extract<Op, { op: K }>;
export type Handler<K extends OpKind> = (env: OpEnv, op: OpOf<K>) => KGen<Outcome<K>>;
/** An op that needs no address space: kernel threads run these too. */
export type KernelHandler<K extends OpKind> = (run: RunState, op: OpOf<K>) => KGen<Outcome<K>>;

/** The region an op names in the caller's address space (a region handle is user space's variable). */
export function regionOf(env: OpEnv, region: number): RegionInfo | undefined {
  return env.space.regions.get(region);
}

/** The address of the page an op names (region handle + page index), if the region exists. */
export function pageAddr(env: OpEnv, op: { readonly region: number; readonly page: number }): number | undefined {
  const r = env.space.regions.get(op.region);
  return r ? r.start + op.page : undefined;
}

export function protBits(p: Prot): number {
  return p === 'rw' ? PROT_READ | PROT_WRITE : p === 'r' ? PROT_READ : 0;
}
