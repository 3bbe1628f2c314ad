// What the THP race specs share: a strategy that parks one task at a
// preemption point, runs another until it reaches a point of its own, then
// lets the first go on; and the ops of a THP program.
import assert from 'node:assert/strict';
import { Kernel, Replay, defaultChoice, this_kernel, type KGen, type Strategy } from '../../../engine/index.ts';
import type { MachineOptions } from '../../../engine/mm/machine.ts';
import type { Op } from '../../../engine/program/ops.ts';

/** One task on a machine with room for THPs (`machine`: its frames, the zero pages); assertions inside fail the test. */
export function runThpTask(body: () => KGen<unknown>, machine: MachineOptions): Kernel {
  const k = new Kernel({ strategy: new Replay([]), maxSteps: 20000, machine });
  k.spawn('T0', body);
  const r = k.run();
  assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
  return k;
}

export const mmap16: Op = { op: 'mmap', region: 0, pages: 16, prot: 'rw' };
export const hugepage: Op = { op: 'madvise', region: 0, page: 0, pages: 16, advice: 'HUGEPAGE' };
export const w = (page: number, value: number): Op => ({ op: 'write', region: 0, page, word: 0, value });
export const r = (page: number): Op => ({ op: 'read', region: 0, page, word: 0 });

/** What a park did: whether `parked` stopped at its point and `runner` reached its own while it waited. */
export interface Park {
  parked: boolean;
  reached: boolean;
}

/**
 * Park task `parked` when it stands at `at`; run `runner` until it stands at
 * `until` (or cannot run); then the default order again, except that once
 * `parked` stands at `resume` (if given) `runner` runs for as long as it can.
 */
export function park(parked: string, at: string, runner: string, until: string, resume?: string): { strategy: Strategy; park: Park } {
  const state: Park = { parked: false, reached: false };
  let phase: 'before' | 'running' | 'done' | 'finish' = 'before';
  const strategy: Strategy = {
    nextTask(runnable: readonly number[], current: number, _step: number, sleeping: boolean): number {
      const ex = this_kernel().sched;
      const find = (name: string) => ex.tasks.find((t) => t.name === name);
      if (phase === 'before') {
        const p = find(parked);
        if (p && p.state === 'runnable' && p.label === at) {
          state.parked = true;
          phase = 'running';
        }
      }
      if (phase === 'running') {
        const t = find(runner);
        if (t && t.label === until) {
          state.reached = true;
          phase = 'done';
        } else if (t && runnable.includes(t.id)) return t.id;
        else phase = 'done';
        const p = find(parked)!;
        assert.ok(runnable.includes(p.id), `${parked} can go on`);
        return p.id;
      }
      if (phase === 'done' && resume !== undefined && find(parked)?.label === resume) phase = 'finish';
      if (phase === 'finish') {
        const t = find(runner);
        if (t && runnable.includes(t.id)) return t.id;
      }
      return defaultChoice(runnable, current, sleeping);
    },
    describe: () => `park ${parked} at ${at} until ${runner} reaches ${until}`,
  };
  return { strategy, park: state };
}

/** One phase of `phases()`: run `task` until its label starts with `until`, or until it blocks ('blocked') or ends. */
export interface Phase {
  readonly task: string;
  readonly until?: string | 'blocked';
}

/**
 * Run the phases in order, each task alone until its phase ends; then the
 * default order. `reached[i]`: phase i ended at its point (not because its task ran out).
 */
export function phases(list: readonly Phase[]): { strategy: Strategy; reached: boolean[] } {
  const reached = list.map(() => false);
  let i = 0;
  const strategy: Strategy = {
    nextTask(runnable: readonly number[], current: number, _step: number, sleeping: boolean): number {
      const ex = this_kernel().sched;
      while (i < list.length) {
        const ph = list[i]!;
        const t = ex.tasks.find((x) => x.name === ph.task);
        if (t && ph.until === 'blocked' && t.state !== 'done' && !runnable.includes(t.id)) reached[i] = true;
        else if (t && ph.until !== undefined && ph.until !== 'blocked' && t.label.startsWith(ph.until)) reached[i] = true;
        else if (t && runnable.includes(t.id)) return t.id;
        i++;
      }
      return defaultChoice(runnable, current, sleeping);
    },
    describe: () => `phases ${list.map((p) => `${p.task}→${p.until ?? 'end'}`).join(', ')}`,
  };
  return { strategy, reached };
}
