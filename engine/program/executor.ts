/**
 * The program executor: boots a run's Kernel, turns a Program into kernel
 * tasks (one per user thread, one per kernel thread of the program), each
 * running its ops in order through the op handlers (handlers/), and records
 * what user space saw (History) for the properties.
 */
import { Kernel } from '../kernel/boot.ts';
import { exit_mm } from '../kernel/exit.ts';
import { mm_alloc, mmget } from '../kernel/fork.ts';
import { unpin_user_page } from '../mm/gup.ts';
import { khugepaged } from '../mm/khugepaged.ts';
import { folio_put } from '../mm/page_alloc.ts';
import { page_folio, type MmStruct } from '../mm/mm_types.ts';
import type { KGen } from '../sched/task.ts';
import { isViolationError, type Violation } from '../sched/violation.ts';
import { WaitQueue } from '../sched/waitable.ts';
import { runKernelOp, runUserOp, swapoff_all, type OpEnv, type RunState } from './handlers/index.ts';
import { History, type OpRecord, type Outcome } from './history.ts';
import type { Op, Program } from './ops.ts';
import type { RunContext, RunOptions, RunResult } from './run-context.ts';
import { UserSpace } from './userspace.ts';

export type { RunContext, RunHooks, RunOptions, RunResult } from './run-context.ts';

/** Does any thread of the program turn swap on? */
function usesSwap(p: Program): boolean {
  const swapon = (ops: readonly Op[]): boolean => ops.some((op) => op.op === 'swapon');
  return p.processes.some((proc) => proc.threads.some(swapon)) || (p.kthreads ?? []).some(swapon);
}

/** Does any thread of the program ask for huge pages (MADV_HUGEPAGE)? */
function usesThp(p: Program): boolean {
  const hugepage = (ops: readonly Op[]): boolean => ops.some((op) => op.op === 'madvise' && op.advice === 'HUGEPAGE');
  return p.processes.some((proc) => proc.threads.some(hugepage));
}

class Executor implements RunState {
  readonly ctx: RunContext;
  readonly forked = new Set<number>();
  readonly devices = new Map<number, number>();
  pinIds = 0;
  refIds = 0;
  /** Program threads (user and kernel) not yet done, and the queue the shutdown task waits on. */
  private threadsLeft = 0;
  private readonly allExited = new WaitQueue('all user threads exited');

  constructor(
    readonly program: Program,
    readonly options: RunOptions,
  ) {
    const kernel = new Kernel({
      strategy: options.strategy,
      maxSteps: options.maxSteps,
      trace: options.trace,
      debug: options.debug,
      afterStep: options.hooks?.afterStep ? () => options.hooks!.afterStep!(this.ctx) : undefined,
      machine: { nr_frames: program.frames, fault_mode: program.faultMode, zero_page: program.zeroPage, ...(program.thpAlways ? { thp_enabled: 'always' as const } : {}) },
    });
    this.ctx = { program, kernel, machine: kernel.machine, execution: kernel.sched, history: new History(), spaces: [], busy: 0 };
  }

  run(): RunResult {
    const k = this.ctx.kernel;
    // Boot: process 0's address space exists before any task runs.
    const init = this.program.processes[0];
    if (init && init.threads.length > 0) this.startProcess(0, k.enter(() => mm_alloc('P0')));
    (this.program.kthreads ?? []).forEach((ops, i) => {
      const name = `K${i}`;
      this.threadsLeft++;
      k.spawn(name, () => this.thread(name, ops, undefined));
    });
    if (usesSwap(this.program)) k.spawn('shutdown', () => this.shutdown());
    // khugepaged runs for a program that asks for huge pages (MADV_HUGEPAGE).
    if (this.program.khugepaged && usesThp(this.program)) k.spawn('khugepaged', () => khugepaged(() => this.threadsLeft === 0));
    const result = k.run();
    const violation = result.violation ?? this.atEnd();
    return { ...result, violation, history: this.ctx.history, context: this.ctx };
  }

  private atEnd(): Violation | undefined {
    const hook = this.options.hooks?.atEnd;
    if (!hook) return undefined;
    try {
      this.ctx.kernel.enter(() => hook(this.ctx));
      return undefined;
    } catch (e) {
      if (isViolationError(e)) return e.violation;
      throw e;
    }
  }

  startProcess(pid: number, mm: MmStruct): UserSpace {
    const space = new UserSpace(this.ctx.spaces.length, mm, pid);
    this.ctx.spaces.push(space);
    const threads = this.program.processes[pid]!.threads;
    // The creator's reference is the first thread's; each further thread takes one.
    for (let tid = 1; tid < threads.length; tid++) mmget(mm);
    space.threads = threads.length;
    threads.forEach((ops, tid) => {
      const name = `P${pid}.T${tid}`;
      this.threadsLeft++;
      this.ctx.kernel.spawn(name, () => this.thread(name, ops, { run: this, space }));
    });
    return space;
  }

  /**
   * One program thread: its ops in order, each recorded when it returns. A
   * user thread (env set) runs in its address space and leaves it at the
   * end (exit_mm); a kernel thread (env undefined) has none.
   */
  private *thread(name: string, ops: readonly Op[], env: OpEnv | undefined): KGen {
    const ctx = this.ctx;
    const ex = ctx.execution;
    const afterOp = this.options.hooks?.afterOp;
    for (let index = 0; index < ops.length; index++) {
      const op = ops[index]!;
      const start = ex.step;
      const as = env ? env.space.id : -1;
      ctx.busy++;
      const out: Outcome = env ? yield* runUserOp(env, op) : yield* runKernelOp(this, op);
      ctx.busy--;
      const rec = { kind: op.op, thread: name, index, op, as, start, end: ex.step, ...out } as OpRecord;
      ctx.history.add(rec);
      ex.progress();
      afterOp?.(ctx, rec);
      if (op.op === 'exit') break;
    }
    if (env) {
      ctx.busy++;
      yield* exit_mm(env.space.mm);
      this.leave(env.space);
      ctx.busy--;
    }
    if (--this.threadsLeft === 0) {
      this.allExited.wakeAll();
      this.ctx.machine.khugepaged_wait.wakeAll(); // kthread_stop()
    }
  }

  /** The machine going down, once every program thread has exited. */
  private *shutdown(): KGen {
    while (this.threadsLeft > 0) yield this.allExited;
    yield* swapoff_all(this);
  }

  /**
   * A thread leaves an address space (exit or exec). With the last one the
   * process's files go (exit_files follows exit_mm): the devices drop their pins.
   */
  leave(us: UserSpace): void {
    if (--us.threads > 0) return;
    for (const p of us.pins.values()) unpin_user_page(p.folio);
    us.pins.clear();
    // And the pipes their page references.
    for (const r of us.refs.values()) folio_put(page_folio(r.folio));
    us.refs.clear();
  }
}

/** Run a program once under a strategy. */
export function runProgram(program: Program, options: RunOptions): RunResult {
  return new Executor(program, options).run();
}
