// Kernel-level scenarios for the model's specs (and the Stryker suite): run model functions as tasks
// of one Execution on a fresh Machine, and look at the state they leave. The
// program executor only reaches what user ops reach; paths waiting for their
// callers (rmap walks, migration entries) and BUG_ONs are driven from here.
import assert from 'node:assert/strict';
import { Kernel, Replay, type KGen, type Schedule, type Violation } from '../../engine/index.ts';
import type { Machine } from '../../engine/mm/machine.ts';
import { pmd_table, type Folio, type MmStruct, type Pte, type VmArea } from '../../engine/mm/mm_types.ts';
import { pfn_folio } from '../../engine/mm/page_alloc.ts';
import { pmd_index, pte_index } from '../../engine/mm/pgtable.ts';
import { mm_alloc } from '../../engine/kernel/fork.ts';
import { PROT_READ, PROT_WRITE, vm_mmap } from '../../engine/mm/mmap.ts';
import { user_access } from '../../engine/mm/fault.ts';

export const RW = PROT_READ | PROT_WRITE;
export const RO = PROT_READ;

export interface KernelRun {
  readonly violation: Violation | undefined;
  readonly machine: Machine;
  readonly steps: number;
  readonly warnings: readonly string[];
}

/** Run tasks (by name) under a fixed schedule (default: each to completion, in order). */
export function kernel(tasks: Record<string, () => KGen<unknown>>, o: { frames?: number; schedule?: Schedule; maxSteps?: number } = {}): KernelRun {
  const k = new Kernel({ strategy: new Replay(o.schedule ?? []), maxSteps: o.maxSteps ?? 5000, machine: { nr_frames: o.frames ?? 16 } });
  for (const [name, body] of Object.entries(tasks)) k.spawn(name, body);
  const r = k.run();
  return { violation: r.violation, machine: k.machine, steps: r.steps, warnings: r.warnings };
}

/** One task; assertions inside it fail the test (they surface as a kernel-bug oops). */
export function run(body: () => KGen<unknown>, o: { frames?: number } = {}): KernelRun {
  const r = kernel({ T0: body }, o);
  assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
  return r;
}

/** The violation a single task must raise. */
export function violates(body: () => KGen<unknown>, property: string, re?: RegExp, o: { frames?: number } = {}): Violation {
  const r = kernel({ T0: body }, o);
  assert.ok(r.violation, `expected a ${property} violation`);
  assert.equal(r.violation.property, property, r.violation.message);
  if (re) assert.match(r.violation.message, re);
  return r.violation;
}

/** A fresh mm with one mapping of `pages`; returns both. */
export function* mapped(pages: number, prot = RW, owner = 'P0'): KGen<{ mm: MmStruct; addr: number }> {
  const mm = mm_alloc(owner);
  const addr = yield* vm_mmap(mm, pages, prot);
  assert.ok(addr > 0, `mmap failed: ${addr}`);
  return { mm, addr };
}

export function* store(mm: MmStruct, addr: number, value: number, word = 0): KGen<number> {
  return (yield* user_access(mm, addr, word, true, value)).err;
}

export function* load(mm: MmStruct, addr: number, word = 0): KGen<number> {
  const a = yield* user_access(mm, addr, word, false);
  return a.err || a.value;
}

export function pteAt(mm: MmStruct, addr: number): Pte | undefined {
  return pmd_table(mm.pgd[pmd_index(addr)])?.ptes[pte_index(addr)];
}

export function folioAt(mm: MmStruct, addr: number): Folio {
  const pte = pteAt(mm, addr);
  assert.ok(pte && (pte.kind === 'present' || pte.kind === 'migration'), `no page at ${addr}: ${pte?.kind}`);
  return pfn_folio(pte.pfn);
}

/** [start, end, pgoff] of each VMA, in order. */
export function layout(mm: MmStruct): [number, number, number][] {
  return mm.mmap.map((v: VmArea) => [v.vm_start, v.vm_end, v.vm_pgoff]);
}

/**
 * Tasks that share state built before any of them runs (plain objects: no
 * locks are taken in setup). `explore` runs them under every schedule with
 * one switch to another task at steps 0..maxStep, and with a switch there and
 * back: a small exhaustive search of the interleavings that matter.
 */
export function kernelWith<C>(setup: () => C, tasks: (c: C) => Record<string, () => KGen<unknown>>, o: { frames?: number; schedule?: Schedule } = {}): KernelRun & { ctx: C } {
  const k = new Kernel({ strategy: new Replay(o.schedule ?? []), maxSteps: 5000, machine: { nr_frames: o.frames ?? 16 } });
  const ctx = k.enter(setup);
  for (const [name, body] of Object.entries(tasks(ctx))) k.spawn(name, body);
  const r = k.run();
  return { violation: r.violation, machine: k.machine, steps: r.steps, warnings: r.warnings, ctx };
}

export function explore<C>(
  setup: () => C,
  tasks: (c: C) => Record<string, () => KGen<unknown>>,
  check: (r: KernelRun & { ctx: C }, schedule: Schedule) => void,
  o: { maxStep: number; frames?: number; backAndForth?: boolean },
): number {
  const n = Object.keys(tasks(undefined as C)).length;
  const schedules: Schedule[] = [[]];
  for (let k = 0; k <= o.maxStep; k++) {
    for (let t = 0; t < n; t++) {
      schedules.push([{ step: k, task: t }]);
      if (o.backAndForth) for (let j = k + 1; j <= o.maxStep; j++) for (let u = 0; u < n; u++) if (u !== t) schedules.push([{ step: k, task: t }, { step: j, task: u }]);
    }
  }
  for (const schedule of schedules) check(kernelWith(setup, tasks, { frames: o.frames, schedule }), schedule);
  return schedules.length;
}


