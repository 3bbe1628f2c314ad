/*
 * include/asm-generic/current.h and bug.h, for the model: `current`, BUG_ON,
 * WARN_ON.
 *
 * The model has one CPU. Which Kernel is booted on it is the one piece of
 * module-level state in engine/: the CPU register that Linux's `current`
 * reads (a per-CPU variable there). Everything a run owns (the machine,
 * lockdep, RCU, KASAN, the scheduler) lives in that run's Kernel
 * (engine/kernel/boot.ts); a Kernel puts itself on the CPU for the length of
 * its run and takes itself off after, so runs never see each other's state.
 */
import type { Task } from '../sched/task.ts';
import { ViolationError } from '../sched/violation.ts';
import type { Kernel } from './boot.ts';

let cpu: Kernel | undefined;

/** Put `k` on the CPU; returns who was there (a Kernel restores it when it leaves). */
export function switch_to(k: Kernel | undefined): Kernel | undefined {
  const prev = cpu;
  cpu = k;
  return prev;
}

/** The Kernel being run. Only meaningful inside a run (a kernel path, a property hook). */
export function this_kernel(): Kernel {
  if (cpu === undefined) throw new Error('no Kernel is running: run kernel paths through a Kernel (engine/kernel/boot.ts)');
  return cpu;
}

/** The task being stepped. Only meaningful inside a kernel path. */
export function current(): Task {
  const t = cpu?.sched.currentTask;
  if (t === undefined) throw new Error('current(): no task is running; call this only from a kernel path');
  return t;
}

/** The current global step, or -1 outside a run. */
export function currentStep(): number {
  return cpu?.sched.step ?? -1;
}

/** Raise a violation of `property` at the current step. */
export function report(property: string, message: string): never {
  throw new ViolationError({
    property,
    message,
    step: cpu?.sched.step ?? -1,
    task: cpu?.sched.currentTask?.name,
  });
}

/** BUG_ON / VM_BUG_ON: a `kernel-bug` violation naming the function. */
export function BUG_ON(cond: boolean, fn: string, what: string): void {
  if (cond) report('kernel-bug', `kernel BUG at ${fn}: ${what}`);
}

/** WARN_ON: recorded in the trace, not a violation. Returns cond, as the kernel's does. */
export function WARN_ON(cond: boolean, fn: string, what: string): boolean {
  if (cond) cpu?.sched.warn(`WARNING at ${fn}: ${what}`);
  return cond;
}
