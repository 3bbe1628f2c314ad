/**
 * Address-space ops: mmap, munmap, mremap, mprotect, madvise, and the loads
 * and stores of user threads. An op on a region handle that names nothing
 * fails with -EINVAL before it resolves an address. Ops that take memory
 * away tell the address space's pins first (UserSpace.detachPins), so that
 * gup-pin-coherence knows the process itself moved the page.
 */
import { user_access } from '../../mm/fault.ts';
import { do_madvise } from '../../mm/madvise.ts';
import { EINVAL } from '../../mm/mm_types.ts';
import { MAP_GROWSDOWN, MAP_SHARED, vm_mmap, vm_munmap } from '../../mm/mmap.ts';
import { machine } from '../../mm/machine.ts';
import { current } from '../../kernel/current.ts';
import type { Growth } from '../history.ts';
import { sys_mprotect } from '../../mm/mprotect.ts';
import { MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, sys_mremap } from '../../mm/mremap.ts';
import { pageAddr, protBits, regionOf, type Handler, type OpEnv } from './env.ts';

export const mmap: Handler<'mmap'> = function* (env, op) {
  const flags = (op.growsdown ? MAP_GROWSDOWN : 0) | (op.shared ? MAP_SHARED : 0);
  const addr = yield* vm_mmap(env.space.mm, op.pages, protBits(op.prot), flags);
  if (addr >= 0) env.space.regions.set(op.region, { start: addr, pages: op.pages });
  return { result: addr, addr: addr >= 0 ? addr : undefined, pages: op.pages };
};

export const munmap: Handler<'munmap'> = function* (env, op) {
  const us = env.space;
  const r = regionOf(env, op.region);
  if (!r) return { result: -EINVAL };
  const addr = r.start + op.page;
  const token = us.detachPins(addr, op.pages);
  const ret = yield* vm_munmap(us.mm, addr, op.pages);
  us.detachDone(token, env.run.ctx.execution.step);
  if (ret === 0 && op.page === 0 && op.pages >= r.pages) us.regions.delete(op.region);
  return { result: ret, addr, pages: op.pages };
};

export const mremap: Handler<'mremap'> = function* (env, op) {
  const us = env.space;
  const r = regionOf(env, op.region);
  if (!r) return { result: -EINVAL };
  let flags = (op.maymove ? MREMAP_MAYMOVE : 0) | (op.dontunmap ? MREMAP_DONTUNMAP : 0);
  let to = 0;
  if (op.fixedTo !== undefined) {
    const t = regionOf(env, op.fixedTo);
    if (!t) return { result: -EINVAL };
    flags |= MREMAP_FIXED | MREMAP_MAYMOVE;
    to = t.start;
  }
  const tokens = [us.detachPins(r.start, r.pages), ...(op.fixedTo !== undefined ? [us.detachPins(to, op.pages)] : [])];
  const ret = yield* sys_mremap(us.mm, r.start, r.pages, op.pages, flags, to);
  for (const t of tokens) us.detachDone(t, env.run.ctx.execution.step);
  if (ret >= 0) {
    if (op.fixedTo !== undefined && op.fixedTo !== op.region) us.regions.delete(op.fixedTo);
    us.regions.set(op.region, { start: ret, pages: op.pages });
  }
  return { result: ret, addr: r.start, pages: r.pages, newAddr: ret >= 0 ? ret : undefined, fixedAddr: op.fixedTo !== undefined ? to : undefined };
};

export const mprotect: Handler<'mprotect'> = function* (env, op) {
  const addr = pageAddr(env, op);
  if (addr === undefined) return { result: -EINVAL };
  return { result: yield* sys_mprotect(env.space.mm, addr, op.pages, protBits(op.prot)), addr, pages: op.pages };
};

export const madvise: Handler<'madvise'> = function* (env, op) {
  const us = env.space;
  const addr = pageAddr(env, op);
  if (addr === undefined) return { result: -EINVAL };
  const token = op.advice === 'DONTNEED' ? us.detachPins(addr, op.pages) : undefined;
  const result = yield* do_madvise(us.mm, addr, op.pages, op.advice);
  if (token) us.detachDone(token, env.run.ctx.execution.step);
  return { result, addr, pages: op.pages };
};

/**
 * What this thread's faults grew of its stacks since perf's mmap stream had
 * `from` events (user space would read them from a perf ring, or
 * /proc/self/maps): the pages newly mapped below a stack.
 */
function grownSince(env: OpEnv, from: number): { grown?: Growth } {
  const events = machine().stack_expansions;
  const me = current().name;
  let lo = Infinity;
  let hi = -Infinity;
  let step = -1;
  for (let i = from; i < events.length; i++) {
    const e = events[i]!;
    if (e.mm !== env.space.mm || e.task !== me) continue;
    lo = Math.min(lo, e.start);
    hi = Math.max(hi, e.end);
    step = e.step;
  }
  return lo < hi ? { grown: { addr: lo, pages: hi - lo, step } } : {};
}

export const read: Handler<'read'> = function* (env, op) {
  const addr = pageAddr(env, op);
  if (addr === undefined) return { result: -EINVAL };
  const from = machine().stack_expansions.length;
  const a = yield* user_access(env.space.mm, addr, op.word, false);
  return { result: a.err, addr, pages: 1, value: a.err ? undefined : a.value, ...grownSince(env, from) };
};

export const write: Handler<'write'> = function* (env, op) {
  const addr = pageAddr(env, op);
  if (addr === undefined) return { result: -EINVAL };
  const from = machine().stack_expansions.length;
  const a = yield* user_access(env.space.mm, addr, op.word, true, op.value);
  return { result: a.err, addr, pages: 1, value: op.value, ...grownSince(env, from) };
};
