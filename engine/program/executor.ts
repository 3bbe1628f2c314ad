/**
 * The program executor: turns a Program into kernel tasks, one per user
 * thread, each running its ops in order through the model's syscalls, and
 * records what user space saw (History) for the properties.
 */
import { Execution, type ExecutionResult } from '../sched/execution.ts';
import type { Strategy } from '../sched/strategy.ts';
import type { KGen } from '../sched/task.ts';
import { isViolationError, type Violation } from '../sched/violation.ts';
import { WARN_ON, setRunning } from '../sched/current.ts';
import { WaitQueue } from '../sched/waitable.ts';
import { do_execve } from '../fs/exec.ts';
import { exit_mm } from '../kernel/exit.ts';
import { dup_mm, mm_alloc, mmget, mmput } from '../kernel/fork.ts';
import { user_access } from '../mm/fault.ts';
import { Machine, installMachine } from '../mm/machine.ts';
import { do_madvise } from '../mm/madvise.ts';
import { EAGAIN, EBUSY, EINVAL, STACK_TOP, type MmStruct } from '../mm/mm_types.ts';
import { FOLL_LONGTERM, FOLL_WRITE, pin_user_pages, pin_user_pages_fast, unpin_user_page } from '../mm/gup.ts';
import { PROT_READ, PROT_WRITE, vm_mmap, vm_munmap } from '../mm/mmap.ts';
import { sys_mprotect } from '../mm/mprotect.ts';
import { sys_swapoff, sys_swapon } from '../mm/swapfile.ts';
import { kswapd_reclaim } from '../mm/vmscan.ts';
import { kcompactd_migrate } from '../mm/migrate.ts';
import { MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, sys_mremap } from '../mm/mremap.ts';
import { History, type OpRecord } from './history.ts';
import type { Op, Program, Prot } from './ops.ts';
import { UserSpace } from './userspace.ts';
import { inHugePages, runHugetlbfsOp } from './hugetlbfs-ops.ts';

export interface RunHooks {
  /** After every step: cheap checks only. */
  afterStep?(ctx: RunContext): void;
  /** After every completed op (syscall). */
  afterOp?(ctx: RunContext, rec: OpRecord): void;
  /** Once every task has finished, with the machine still installed. */
  atEnd?(ctx: RunContext): void;
}

export interface RunOptions {
  readonly strategy: Strategy;
  readonly maxSteps?: number;
  readonly trace?: boolean;
  readonly debug?: boolean;
  readonly hooks?: RunHooks;
}

/** Everything a property may look at during and after a run. */
export interface RunContext {
  readonly program: Program;
  readonly machine: Machine;
  readonly execution: Execution;
  readonly history: History;
  readonly spaces: UserSpace[];
  /** User threads currently inside an op (or exiting): 0 means quiescent. */
  busy: number;
}

export interface RunResult extends ExecutionResult {
  readonly history: History;
  readonly context: RunContext;
}

/** Does any thread of the program turn swap on? */
function usesSwap(p: Program): boolean {
  const all = [...p.processes.flatMap((proc) => proc.threads), ...(p.kthreads ?? [])];
  return all.some((ops) => ops.some((op) => op.op === 'swapon'));
}

function protBits(p: Prot): number {
  return p === 'rw' ? PROT_READ | PROT_WRITE : p === 'r' ? PROT_READ : 0;
}

interface OpOutcome {
  result: number;
  addr?: number;
  pages?: number;
  value?: number;
  newAs?: number;
  newAddr?: number;
  fixedAddr?: number;
  pin?: number;
  pinId?: number;
  space?: UserSpace;
}

class Executor {
  readonly ctx: RunContext;
  private readonly forked = new Set<number>();
  private pinIds = 0;
  /** Swap devices by the program's handle: handle -> swap type. */
  private readonly devices = new Map<number, number>();
  /** Program threads (user and kernel) not yet done, and the queue the shutdown task waits on. */
  private userThreads = 0;
  private readonly allExited = new WaitQueue('all user threads exited');

  constructor(
    readonly program: Program,
    readonly options: RunOptions,
  ) {
    const execution = new Execution({
      strategy: options.strategy,
      maxSteps: options.maxSteps,
      trace: options.trace,
      debug: options.debug,
      afterStep: options.hooks?.afterStep ? () => options.hooks!.afterStep!(this.ctx) : undefined,
    });
    this.ctx = {
      program,
      machine: new Machine({ nr_frames: program.frames, fault_mode: program.faultMode }),
      execution,
      history: new History(),
      spaces: [],
      busy: 0,
    };
  }

  run(): RunResult {
    const prevMachine = installMachine(this.ctx.machine);
    try {
      const ex = this.ctx.execution;
      // Boot: process 0's address space exists before any task runs.
      const prevEx = setRunning(ex);
      const init = this.program.processes[0];
      let mm: MmStruct | undefined;
      try {
        if (init && init.threads.length > 0) mm = mm_alloc('P0');
      } finally {
        setRunning(prevEx);
      }
      if (init && mm) this.startProcess(0, mm);
      (this.program.kthreads ?? []).forEach((ops, k) => {
        const name = `K${k}`;
        this.userThreads++;
        ex.spawn(name, () => this.kthread(ops, name));
      });
      if (usesSwap(this.program)) ex.spawn('shutdown', () => this.shutdown());
      const result = ex.run();
      let violation = result.violation;
      if (!violation) violation = this.atEnd();
      return { ...result, violation, history: this.ctx.history, context: this.ctx };
    } finally {
      installMachine(prevMachine);
    }
  }

  private atEnd(): Violation | undefined {
    const hook = this.options.hooks?.atEnd;
    if (!hook) return undefined;
    const ex = this.ctx.execution;
    const prev = setRunning(ex);
    try {
      hook(this.ctx);
      return undefined;
    } catch (e) {
      if (isViolationError(e)) return e.violation;
      throw e;
    } finally {
      setRunning(prev);
    }
  }

  /** Give process pid its address space and start its threads on it. */
  private startProcess(pid: number, mm: MmStruct): UserSpace {
    const space = new UserSpace(this.ctx.spaces.length, mm, pid);
    this.ctx.spaces.push(space);
    const threads = this.program.processes[pid]!.threads;
    // The creator's reference is the first thread's; each further thread takes one.
    for (let tid = 1; tid < threads.length; tid++) mmget(mm);
    space.threads = threads.length;
    threads.forEach((ops, tid) => {
      const name = `P${pid}.T${tid}`;
      this.userThreads++;
      this.ctx.execution.spawn(name, () => this.thread(space, ops, name));
    });
    return space;
  }

  private *thread(space: UserSpace, ops: readonly Op[], name: string): KGen {
    const ex = this.ctx.execution;
    const hooks = this.options.hooks;
    let us = space;
    for (let index = 0; index < ops.length; index++) {
      const op = ops[index]!;
      const start = ex.step;
      this.ctx.busy++;
      const out = yield* this.runOp(us, op);
      this.ctx.busy--;
      const rec: OpRecord = { thread: name, index, op, as: us.id, start, end: ex.step, ...out };
      delete (rec as { space?: unknown }).space;
      this.ctx.history.add(rec);
      ex.progress();
      if (out.space) us = out.space;
      hooks?.afterOp?.(this.ctx, rec);
      if (op.op === 'exit') break;
    }
    this.ctx.busy++;
    yield* exit_mm(us.mm);
    this.leave(us);
    this.ctx.busy--;
    if (--this.userThreads === 0) this.allExited.wakeAll();
  }

  /**
   * The machine going down: once every user thread has exited, swap off
   * every device still on. Swap cache pages nothing refers to any more are
   * reclaimable cache, not a leak; this drops them, and proves that swapoff
   * finishes.
   */
  private *shutdown(): KGen {
    while (this.userThreads > 0) yield this.allExited;
    for (const type of [...this.devices.values()].filter((t) => t >= 0)) {
      const ret = yield* sys_swapoff(type);
      WARN_ON(ret !== 0, 'shutdown', `swapoff of swap ${type} failed with ${ret}`);
    }
    this.devices.clear();
  }

  /** A kernel thread: no mm; it runs the ops that need none (reclaim, swapon, swapoff). */
  private *kthread(ops: readonly Op[], name: string): KGen {
    const ex = this.ctx.execution;
    for (let index = 0; index < ops.length; index++) {
      const op = ops[index]!;
      const start = ex.step;
      this.ctx.busy++;
      const out = yield* this.runKernelOp(op);
      this.ctx.busy--;
      const rec: OpRecord = { thread: name, index, op, as: -1, start, end: ex.step, ...out };
      this.ctx.history.add(rec);
      ex.progress();
      this.options.hooks?.afterOp?.(this.ctx, rec);
      if (op.op === 'exit') break;
    }
    if (--this.userThreads === 0) this.allExited.wakeAll();
  }

  /** Ops that need no address space; undefined for those that do. */
  private *runKernelOp(op: Op): KGen<OpOutcome> {
    switch (op.op) {
      case 'swapon': {
        if (this.devices.has(op.dev)) return { result: -EBUSY };
        // Reserve the handle: another thread's swapon of it must not race ours.
        this.devices.set(op.dev, -1);
        const type = yield* sys_swapon(op.slots);
        if (type >= 0) this.devices.set(op.dev, type);
        else this.devices.delete(op.dev);
        return { result: type };
      }
      case 'swapoff': {
        const type = this.devices.get(op.dev);
        if (type === undefined || type < 0) return { result: -EINVAL };
        const ret = yield* sys_swapoff(type);
        if (ret === 0) this.devices.delete(op.dev);
        return { result: ret };
      }
      case 'reclaim':
        return { result: (yield* kswapd_reclaim(op.victim)) ? 1 : 0 };
      case 'migrate':
        return { result: (yield* kcompactd_migrate(op.victim)) ? 1 : 0 };
      case 'exit':
        return { result: 0 };
      default:
        // A kernel thread has no mm to map, read or fork.
        return { result: -EINVAL };
    }
  }

  /**
   * A thread leaves an address space (exit or exec). With the last one the
   * process's files go (exit_files follows exit_mm): the devices drop their pins.
   */
  private leave(us: UserSpace): void {
    if (--us.threads > 0) return;
    for (const p of us.pins.values()) unpin_user_page(p.folio);
    us.pins.clear();
  }

  private *runOp(us: UserSpace, op: Op): KGen<OpOutcome> {
    const mm = us.mm;
    op = inHugePages(us, op);
    switch (op.op) {
      case 'hugetlbCreate':
      case 'hugetlbMmap':
      case 'hugetlbPunch':
      case 'hugetlbTruncate':
        return yield* runHugetlbfsOp(us, op);
      case 'swapon':
      case 'swapoff':
      case 'reclaim':
      case 'migrate':
        return yield* this.runKernelOp(op);
      case 'mmap': {
        const addr = yield* vm_mmap(mm, op.pages, protBits(op.prot));
        if (addr >= 0) us.regions.set(op.region, { start: addr, pages: op.pages });
        return { result: addr, addr: addr >= 0 ? addr : undefined, pages: op.pages };
      }
      case 'munmap': {
        const r = us.regions.get(op.region);
        if (!r) return { result: -EINVAL };
        const addr = r.start + op.page;
        const token = us.detachPins(addr, op.pages);
        const ret = yield* vm_munmap(mm, addr, op.pages);
        us.detachDone(token, this.ctx.execution.step);
        if (ret === 0 && op.page === 0 && op.pages >= r.pages) us.regions.delete(op.region);
        return { result: ret, addr, pages: op.pages };
      }
      case 'mremap': {
        const r = us.regions.get(op.region);
        if (!r) return { result: -EINVAL };
        let flags = (op.maymove ? MREMAP_MAYMOVE : 0) | (op.dontunmap ? MREMAP_DONTUNMAP : 0);
        let to = 0;
        if (op.fixedTo !== undefined) {
          const t = us.regions.get(op.fixedTo);
          if (!t) return { result: -EINVAL };
          flags |= MREMAP_FIXED | MREMAP_MAYMOVE;
          to = t.start;
        }
        const tokens = [us.detachPins(r.start, r.pages), ...(op.fixedTo !== undefined ? [us.detachPins(to, op.pages)] : [])];
        const ret = yield* sys_mremap(mm, r.start, r.pages, op.pages, flags, to);
        for (const t of tokens) us.detachDone(t, this.ctx.execution.step);
        if (ret >= 0) {
          if (op.fixedTo !== undefined && op.fixedTo !== op.region) us.regions.delete(op.fixedTo);
          us.regions.set(op.region, { start: ret, pages: op.pages });
        }
        return { result: ret, addr: r.start, pages: r.pages, newAddr: ret >= 0 ? ret : undefined, fixedAddr: op.fixedTo !== undefined ? to : undefined };
      }
      case 'mprotect': {
        const r = us.regions.get(op.region);
        if (!r) return { result: -EINVAL };
        const addr = r.start + op.page;
        return { result: yield* sys_mprotect(mm, addr, op.pages, protBits(op.prot)), addr, pages: op.pages };
      }
      case 'madvise': {
        const r = us.regions.get(op.region);
        if (!r) return { result: -EINVAL };
        const addr = r.start + op.page;
        const token = op.advice === 'DONTNEED' ? us.detachPins(addr, op.pages) : undefined;
        const result = yield* do_madvise(mm, addr, op.pages, op.advice);
        if (token) us.detachDone(token, this.ctx.execution.step);
        return { result, addr, pages: op.pages };
      }
      case 'read': {
        const r = us.regions.get(op.region);
        if (!r) return { result: -EINVAL };
        const addr = r.start + op.page;
        const a = yield* user_access(mm, addr, op.word, false);
        return { result: a.err, addr, pages: 1, value: a.err ? undefined : a.value };
      }
      case 'write': {
        const r = us.regions.get(op.region);
        if (!r) return { result: -EINVAL };
        const addr = r.start + op.page;
        const a = yield* user_access(mm, addr, op.word, true, op.value);
        return { result: a.err, addr, pages: 1, value: op.value };
      }
      case 'fork': {
        const child = op.child;
        if (!this.program.processes[child] || child === us.pid) return { result: -EINVAL };
        if (this.forked.has(child) || child === 0) return { result: -EAGAIN };
        this.forked.add(child);
        const r = yield* dup_mm(mm, `P${child}`);
        if (typeof r === 'number') return { result: r };
        const threads = this.program.processes[child]!.threads;
        if (threads.length === 0) {
          yield* mmput(r);
          return { result: child };
        }
        const space = this.startProcess(child, r);
        space.copyRegionsFrom(us);
        return { result: child, newAs: space.id };
      }
      case 'exec': {
        const args = Math.max(1, op.args);
        const r = yield* do_execve(mm, `P${us.pid}`, args);
        if (typeof r === 'number') return { result: r };
        const space = new UserSpace(this.ctx.spaces.length, r, us.pid);
        this.ctx.spaces.push(space);
        space.regions.set(op.region, { start: STACK_TOP - args, pages: args });
        space.threads = 1;
        this.leave(us);
        return { result: 0, addr: STACK_TOP - args, pages: args, newAs: space.id, space };
      }
      case 'exit':
        return { result: 0 };
      case 'pin': {
        const begun = this.ctx.execution.step;
        const r = us.regions.get(op.region);
        if (!r) return { result: -EINVAL, pin: op.pin };
        if (us.pins.has(op.pin)) return { result: -EBUSY, pin: op.pin };
        const addr = r.start + op.page;
        const flags = (op.write ? FOLL_WRITE : 0) | (op.longterm ? FOLL_LONGTERM : 0);
        const got = op.fast ? yield* pin_user_pages_fast(mm, addr, flags) : yield* pin_user_pages(mm, addr, flags);
        if (typeof got === 'number') return { result: got, addr, pages: 1, pin: op.pin };
        if (us.pins.has(op.pin)) {
          // Another thread took the handle while we were in GUP: the device refuses the second page.
          unpin_user_page(got);
          return { result: -EBUSY, addr, pages: 1, pin: op.pin };
        }
        const id = this.pinIds++;
        us.pins.set(op.pin, { id, addr, folio: got, write: op.write, detached: us.detachedSince(addr, begun) });
        return { result: 0, addr, pages: 1, pin: op.pin, pinId: id };
      }
      case 'pinRead':
      case 'pinWrite': {
        // The device's DMA goes to the page itself, not through page tables.
        yield op.op === 'pinRead' ? 'device DMA read' : 'device DMA write';
        const p = us.pins.get(op.pin);
        if (!p) return { result: -EINVAL, pin: op.pin };
        const at = { addr: p.addr, pages: 1, pin: op.pin, pinId: p.id };
        if (op.op === 'pinRead') return { result: 0, value: p.folio.data[op.word]!, ...at };
        if (!p.write) return { result: -EINVAL, ...at };
        p.folio.data[op.word] = op.value;
        return { result: 0, value: op.value, ...at };
      }
      case 'unpin': {
        yield 'unpin_user_page';
        // The driver looks the handle up and drops it in one go (under its own lock).
        const p = us.pins.get(op.pin);
        if (!p) return { result: -EINVAL, pin: op.pin };
        us.pins.delete(op.pin);
        unpin_user_page(p.folio);
        return { result: 0, addr: p.addr, pages: 1, pin: op.pin, pinId: p.id };
      }
    }
  }
}

/** Run a program once under a strategy. */
export function runProgram(program: Program, options: RunOptions): RunResult {
  return new Executor(program, options).run();
}
