/**
 * Swap devices by the program's handle (swapon, swapoff), and the machine's
 * shutdown, which swaps off what is still on once every program thread is
 * done. Kernel threads run these too: they need no address space.
 */
import { WARN_ON } from '../../kernel/current.ts';
import { EBUSY, EINVAL } from '../../mm/mm_types.ts';
import { sys_swapoff, sys_swapon } from '../../mm/swapfile.ts';
import type { KGen } from '../../sched/task.ts';
import type { KernelHandler, RunState } from './env.ts';

export const swapon: KernelHandler<'swapon'> = function* (run, op) {
  const devices = run.devices;
  if (devices.has(op.dev)) return { result: -EBUSY };
  // Reserve the handle: another thread's swapon of it must not race ours.
  devices.set(op.dev, -1);
  const type = yield* sys_swapon(op.slots, op.sync === true);
  if (type >= 0) devices.set(op.dev, type);
  else devices.delete(op.dev);
  return { result: type };
};

export const swapoff: KernelHandler<'swapoff'> = function* (run, op) {
  const type = run.devices.get(op.dev);
  if (type === undefined || type < 0) return { result: -EINVAL };
  const ret = yield* sys_swapoff(type);
  if (ret === 0) run.devices.delete(op.dev);
  return { result: ret };
};

/**
 * The machine going down: swap off every device still on. Swap cache pages
 * nothing refers to any more are reclaimable cache, not a leak; this drops
 * them, and proves that swapoff finishes. We enter once every program
 * thread has exited.
 */
export function* swapoff_all(run: RunState): KGen {
  for (const type of [...run.devices.values()].filter((t) => t >= 0)) {
    const ret = yield* sys_swapoff(type);
    WARN_ON(ret !== 0, 'shutdown', `swapoff of swap ${type} failed with ${ret}`);
  }
  run.devices.clear();
}
