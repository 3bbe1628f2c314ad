/*
 * The kernel of one run, booted: what Linux keeps in globals (mem_map and the
 * free lists, init_mm.mmlist, swap_info[], lockdep's graph, RCU's state,
 * KASAN's shadow) and the scheduler that steps its tasks. One Kernel per run:
 * nothing of a run outlives it or leaks into the next.
 *
 * The scheduler (engine/sched) is a plain stepper; the Kernel hooks lockdep
 * and RCU into its task exits. While a Kernel runs it is on the model's one
 * CPU (engine/kernel/current.ts), which is how `current`, lockdep, KASAN and
 * the machine are found from inside a kernel path.
 */
import { DocumentedOrder, Lockdep } from '../locking/lockdep.ts';
import { RcuState } from '../locking/rcu.ts';
import { Kasan } from '../mm/kasan.ts';
import { Machine, type MachineOptions } from '../mm/machine.ts';
import { MM_LOCK_ORDER } from '../mm/rmap.ts';
import { Execution, type ExecutionOptions, type ExecutionResult } from '../sched/execution.ts';
import type { KGen, Task } from '../sched/task.ts';
import { switch_to } from './current.ts';

/** mm/rmap.c's lock order as lockdep's graph: built once, only read by every run's Lockdep. */
const MM_ORDER = new DocumentedOrder(MM_LOCK_ORDER);

export interface KernelOptions extends Omit<ExecutionOptions, 'onTaskExit'> {
  readonly machine?: MachineOptions;
}

export class Kernel {
  readonly sched: Execution;
  readonly lockdep: Lockdep;
  readonly rcu: RcuState;
  readonly kasan: Kasan;
  readonly machine: Machine;

  constructor(options: KernelOptions) {
    this.sched = new Execution({
      ...options,
      onTaskExit: (t) => {
        this.lockdep.taskExit(t);
        this.rcu.taskExit(t);
      },
    });
    this.lockdep = new Lockdep(this.sched, MM_ORDER);
    this.rcu = new RcuState(this.sched);
    this.kasan = new Kasan(this.sched);
    this.machine = this.enter(() => new Machine(options.machine));
  }

  /** Create a task; callable before run() and from inside a running task (fork). */
  spawn(name: string, body: () => KGen<unknown>, opts: { daemon?: boolean } = {}): Task {
    return this.sched.spawn(name, body, opts);
  }

  /** Run every task to the end (or to a violation), with this Kernel on the CPU. */
  run(): ExecutionResult {
    return this.enter(() => this.sched.run());
  }

  /** Run `fn` with this Kernel on the CPU, outside any task: boot, and the checks at the end. */
  enter<T>(fn: () => T): T {
    const prev = switch_to(this);
    try {
      return fn();
    } finally {
      switch_to(prev);
    }
  }
}
