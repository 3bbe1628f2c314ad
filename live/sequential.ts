/**
 * A program run on the model one op at a time: a strategy that switches
 * tasks only where an op has just ended (to a seeded random runnable task)
 * and otherwise keeps the current one. The history, in the order the ops
 * ran, is the global order the kernel executor then follows. A run where an
 * op blocked mid-way and another began (a lock, a wait) is not sequential:
 * the caller skips it.
 */
import { Prng, defaultChoice, type Strategy } from '../engine/index.ts';
import { runProgram } from '../engine/program/executor.ts';
import type { OpRecord } from '../engine/program/history.ts';
import type { Op, Program } from '../engine/program/ops.ts';
import type { Placed } from './encode.ts';
import { modelStates } from './thp-observe.ts';

class OpBoundary implements Strategy {
  private readonly prng: Prng;
  boundary = true;

  constructor(readonly seed: number) {
    this.prng = new Prng(seed);
  }

  nextTask(runnable: readonly number[], current: number, _step: number, sleeping: boolean): number {
    // A thread kept on the CPU past its last op has exited once it is no longer runnable.
    if (!this.boundary && (sleeping || runnable.includes(current))) return defaultChoice(runnable, current, sleeping);
    this.boundary = false;
    return runnable[this.prng.below(runnable.length)]!;
  }

  describe(): string {
    return `op-boundary(seed=${this.seed})`;
  }
}

export interface SequentialRun {
  /** The model's records, in the order the ops ran. */
  readonly records: readonly OpRecord[];
  readonly order: readonly Placed[];
  /** False if two ops overlapped in time. */
  readonly sequential: boolean;
  /** The model stopped on a violation (the clean model should not). */
  readonly violation?: string;
  /** With `observe`: each record's page states after it (live/thp-observe.ts), in the records' order. */
  readonly states?: readonly (string | undefined)[];
}

function place(r: OpRecord): Placed {
  const m = /^P(\d+)\.T(\d+)$/.exec(r.thread);
  const at = r.kind === 'mremap' ? (r.newAddr ?? -1) : r.kind === 'mmap' || r.kind === 'hugetlbMmap' || r.kind === 'memfdMmap' ? Math.max(r.result, -1) : undefined;
  const where = m ? { proc: Number(m[1]), thread: Number(m[2]) } : { proc: -1, thread: 0 };
  return { ...where, op: r.op, ...(at === undefined ? {} : { place: at }) };
}

/** The region handles an op names (an op of another thread that changes one of them must not come between). */
function handles(op: Op): number[] {
  if (!('region' in op)) return [];
  return op.op === 'mremap' && op.fixedTo !== undefined ? [op.region, op.fixedTo] : [op.region];
}

const CHANGES_HANDLE = new Set<Op['op']>(['mmap', 'hugetlbMmap', 'memfdMmap', 'munmap', 'mremap']);

/**
 * A thread's next op begins in the step its last one ended, up to its first
 * yield (where it looks its region up), and may then wait while another
 * thread runs a whole op. An op's place in the order is where its body
 * begins: its thread's first step after that. The run is sequential if no
 * body is interleaved with another task's steps, and no op that changes a
 * region handle came between an op's lookup of that handle and its body.
 */
function order(records: readonly OpRecord[], ran: readonly string[]): { records: OpRecord[]; sequential: boolean } {
  let sequential = true;
  const keyed = records.map((r, i) => {
    let body = r.start;
    if (r.end > r.start) {
      body = r.end;
      for (let t = r.start + 1; t <= r.end; t++) if (ran[t] === r.thread) { body = t; break; }
      for (let t = body; t <= r.end; t++) if (ran[t] !== r.thread) sequential = false;
    }
    return { r, i, body };
  });
  keyed.sort((a, b) => a.body - b.body || a.i - b.i);
  for (const k of keyed) {
    const mine = handles(k.r.op);
    const between = keyed.filter((o) => o.r.thread !== k.r.thread && o.r.as === k.r.as && o.body > k.r.start && o.body < k.body);
    if (between.some((o) => CHANGES_HANDLE.has(o.r.op.op) && handles(o.r.op).some((h) => mine.includes(h)))) sequential = false;
  }
  return { records: keyed.map((k) => k.r), sequential };
}

/**
 * Ops that claim something before their first yield (fork its child's
 * name, swapon its device handle, pin its pin handle and get its reference
 * handle: a pin or get that found the handle free and then lost it to
 * another thread's has gone on into GUP, and may fail there, where the
 * kernel executor, one op at a time, finds the handle taken first,
 * live/c/vmsplice.c's `if (f->used) return -EBUSY`): the thread keeps the CPU into them, so
 * that claim and body are not split by another thread's op. A thread also
 * keeps it after its last op, through its exit (exit_mm): the kernel
 * executor ends the thread there too (live/encode.ts `end`), so both sides
 * drop the process's mm at the same point of the order.
 */
const CLAIMS = new Set<Op['op']>(['fork', 'swapon', 'swapoff', 'pin', 'get']);

function nextOp(p: Program, rec: OpRecord): Op | undefined {
  const m = /^P(\d+)\.T(\d+)$/.exec(rec.thread);
  const k = /^K(\d+)$/.exec(rec.thread);
  const ops = m ? p.processes[Number(m[1])]?.threads[Number(m[2])] : k ? p.kthreads?.[Number(k[1])] : undefined;
  return ops?.[rec.index + 1];
}

export function runSequential(program: Program, seed: number, observe = false): SequentialRun {
  const strategy = new OpBoundary(seed);
  const ran: string[] = [];
  const states = new Map<OpRecord, string | undefined>();
  const res = runProgram(program, {
    strategy,
    maxSteps: 20_000,
    hooks: {
      afterStep: (ctx) => {
        ran[ctx.execution.step] = ctx.execution.currentTask?.name ?? '';
      },
      afterOp: (ctx, rec) => {
        if (observe) states.set(rec, modelStates(ctx, rec));
        const next = rec.op.op === 'exit' ? undefined : nextOp(program, rec);
        strategy.boundary = next !== undefined && !CLAIMS.has(next.op);
      },
    },
  });
  const o = order(res.history.records, ran);
  return {
    records: o.records,
    order: o.records.map(place),
    sequential: o.sequential,
    violation: res.violation ? `${res.violation.property}: ${res.violation.message}` : undefined,
    ...(observe ? { states: o.records.map((r) => states.get(r)) } : {}),
  };
}
