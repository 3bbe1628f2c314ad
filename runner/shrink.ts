import type { Schedule, Switch, Violation } from '../engine/index.ts';
import type { OpRecord } from '../engine/program/history.ts';
import { countOps, type Op, type Program } from '../engine/program/ops.ts';
import { replayCase, selectedViolation, type CaseOptions } from './case.ts';
import { stillFails, verdictOf } from './judge.ts';
import type { Repro, ShrinkStats } from './types.ts';

interface Failing {
  readonly program: Program;
  readonly schedule: Schedule;
  readonly violation: Violation;
  /** When each op of this run ran: to realign switches when ops go. */
  readonly records: readonly OpRecord[];
}

export interface ShrinkResult {
  readonly repro: Repro;
  readonly violation: Violation;
  readonly stats: ShrinkStats;
}

/** Every thread's ops; kernel threads are a last pseudo-process. */
type Threads = Op[][][];

function threadsOf(p: Program): Threads {
  return [...p.processes.map((proc) => proc.threads.map((ops) => [...ops])), (p.kthreads ?? []).map((ops) => [...ops])];
}

function withThreads(p: Program, t: Threads): Program {
  const kthreads = t[t.length - 1]!;
  const out: Program = { ...p, processes: t.slice(0, -1).map((threads) => ({ threads })) };
  if (kthreads.length > 0) return { ...out, kthreads };
  const { kthreads: _dropped, ...rest } = out;
  return rest;
}

/** `P1.T0` -> "1.0"; kernel thread `K0` -> "<processes>.0". */
function threadKey(thread: string, processes: number): string | undefined {
  const m = /^P(\d+)\.T(\d+)$/.exec(thread);
  if (m) return `${m[1]}.${m[2]}`;
  const k = /^K(\d+)$/.exec(thread);
  return k ? `${processes}.${k[1]}` : undefined;
}

/** Every op's position, in a stable order: process, thread, index. */
function positions(t: Threads): [number, number, number][] {
  const out: [number, number, number][] = [];
  t.forEach((threads, pid) => threads.forEach((ops, tid) => ops.forEach((_, i) => out.push([pid, tid, i]))));
  return out;
}

function withoutOps(p: Program, drop: ReadonlySet<string>): Program {
  const t = threadsOf(p).map((threads, pid) => threads.map((ops, tid) => ops.filter((_, i) => !drop.has(`${pid}.${tid}.${i}`))));
  return withThreads(p, t);
}

/**
 * The schedule with the removed ops' steps cut out: a switch after a removed
 * op moves earlier by the steps that op took; one inside it goes. Switches
 * are keyed by global step, so without this every removal would also move
 * every later switch, and a shrink would need two changes at once.
 */
function realign(schedule: Schedule, records: readonly OpRecord[], drop: ReadonlySet<string>, processes: number): Schedule {
  const cut = records.filter((r) => {
    const key = threadKey(r.thread, processes);
    return key !== undefined && drop.has(`${key}.${r.index}`);
  });
  const out: Switch[] = [];
  for (const sw of schedule) {
    let step = sw.step;
    let inside = false;
    for (const r of cut) {
      if (sw.step > r.start && sw.step < r.end) inside = true;
      else if (sw.step >= r.end) step -= r.end - r.start;
    }
    if (!inside && (out.length === 0 || out[out.length - 1]!.step < step)) out.push({ step, task: sw.task });
  }
  return out;
}

/** Processes no fork names never run: clear them, so the report shows only what ran. */
function dropUnforked(p: Program): Program {
  const forked = new Set<number>([0, p.processes.length]);
  for (const proc of p.processes) for (const ops of proc.threads) for (const op of ops) if (op.op === 'fork') forked.add(op.child);
  return withThreads(
    p,
    threadsOf(p).map((threads, pid) => (forked.has(pid) ? threads : [])),
  );
}

/**
 * Shrink a failing program and its schedule together until 1-minimal:
 * removing any single op, or any single context switch, makes the failure
 * (a violation of the same property) go away. Whole threads and chunks go
 * first (delta debugging), single ops and switches last. After each accepted
 * step the schedule is re-recorded from the run that still fails, so the
 * switch list always matches the program it belongs to.
 */
export function shrink(program: Program, schedule: Schedule, property: string, o: CaseOptions, maxRuns = 5_000): ShrinkResult {
  const t0 = process.hrtime.bigint();
  let runs = 0;
  const attempt = (p: Program, s: Schedule): Failing | undefined => {
    runs++;
    const r = replayCase(p, s, o);
    const v = selectedViolation(r, o);
    return stillFails(verdictOf(v, { property })) ? { program: p, schedule: r.schedule, violation: v!, records: r.history.records } : undefined;
  };

  let cur = attempt(program, schedule);
  if (!cur) throw new Error(`shrink: the repro does not fail with ${property} on replay`);
  const fromOps = countOps(program);
  const fromSwitches = cur.schedule.length;
  const budget = (): boolean => runs < maxRuns;

  const tryProgram = (p: Program, realigned?: Schedule): boolean => {
    for (const s of realigned ? [cur!.schedule, realigned, []] : [cur!.schedule]) {
      if (!budget()) return false;
      const f = attempt(p, s);
      if (f) {
        cur = f;
        return true;
      }
    }
    return false;
  };
  const trySchedule = (s: Schedule): boolean => {
    if (!budget()) return false;
    const f = attempt(cur!.program, s);
    if (f) cur = f;
    return f !== undefined;
  };

  const cleaned = dropUnforked(cur.program);
  tryProgram(cleaned);

  for (let changed = true; changed && budget(); ) {
    changed = false;
    // Whole threads.
    for (let pid = 0; pid <= cur.program.processes.length; pid++) {
      for (let tid = threadsOf(cur.program)[pid]!.length - 1; tid >= 0; tid--) {
        const t = threadsOf(cur.program);
        if (!t[pid]?.[tid]) continue;
        t[pid]!.splice(tid, 1);
        if (tryProgram(withThreads(cur.program, t))) changed = true;
      }
    }
    // Ops: chunks of halving size, then one at a time.
    for (let size = Math.max(1, Math.floor(countOps(cur.program) / 2)); size >= 1; size = Math.floor(size / 2)) {
      for (let start = 0; ; ) {
        const pos = positions(threadsOf(cur.program));
        if (start >= pos.length) break;
        const drop = new Set(pos.slice(start, start + size).map(([a, b, c]) => `${a}.${b}.${c}`));
        if (tryProgram(withoutOps(cur.program, drop), realign(cur.schedule, cur.records, drop, cur.program.processes.length))) changed = true;
        else start += size;
      }
    }
    // Context switches: chunks, then one at a time.
    for (let size = Math.max(1, Math.floor(cur.schedule.length / 2)); size >= 1; size = Math.floor(size / 2)) {
      for (let start = 0; start < cur.schedule.length; ) {
        const s = cur.schedule;
        const cand = [...s.slice(0, start), ...s.slice(start + size)];
        if (trySchedule(cand)) changed = true;
        else start += size;
      }
    }
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return {
    repro: { program: cur.program, schedule: cur.schedule },
    violation: cur.violation,
    stats: { ops: countOps(cur.program), switches: cur.schedule.length, fromOps, fromSwitches, runs, ms },
  };
}
