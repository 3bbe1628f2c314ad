/**
 * A run's interleaving coverage, from the per-step hook: each context switch
 * gives the pair (the preemption point the last task parked at, the one the
 * next task resumes from); each lock taken by another task than the one that
 * took it before gives (lock class, the earlier taker's point, this one's).
 * Preemption points are yield labels ("copy_present_pte: wrprotect src pte").
 * Patch-directed, a pair is at the patch when it names a changed point, or
 * when the step before or after the switch ran a changed line (a target
 * counter moved): the switch fell right after or right before changed code,
 * whatever locks it sits between.
 */
import { Prng } from '../../engine/sched/prng.ts';
import type { HeldLockRef } from '../../engine/sched/task.ts';
import type { RunContext } from '../../engine/program/executor.ts';
import { feature, FeatureKind } from './features.ts';
import { coverageRegistry } from './registry.ts';

/**
 * A label's id: its FNV-1a hash, so that features stay numbers and name the
 * same label in every process whatever it ran before (numbering labels as
 * first seen made a campaign's features depend on the runs before it in the
 * same process: an in-process CLI run after other tests counted one feature
 * more than the same campaign in a fresh process). Cached per label.
 */
const ids = new Map<string, number>();
export function labelId(s: string): number {
  let id = ids.get(s);
  if (id === undefined) {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    ids.set(s, (id = h >>> 0));
  }
  return id;
}

export class InterleavingProbe {
  private lastTask = -1;
  private lastParked = '';
  /** Per task id: the label it parked at after its last step (what it resumes from). */
  private parked: string[] = [];
  private lockTaker = new Map<HeldLockRef, { task: number; label: string }>();
  private out: number[] = [];
  /** Pairs that name a target label (patch-directed reach), as "a|b". */
  pairsAtTargets: Set<string> | undefined;
  /**
   * Per preemption point the run stopped at (a task yielded there and could
   * go on): how often, and one step, drawn uniformly among those, at which a
   * switch would preempt the task there. Map order is first-seen order.
   */
  private stops = new Map<string, { n: number; step: number }>();
  private reservoir = new Prng(0);

  /** The counters of the changed lines (registry indices), their sum after the last step, and whether that step moved it. */
  private readonly hits = coverageRegistry().hits;
  private lastSum = 0;
  private lastRanChanged = false;

  constructor(
    private readonly targets?: ReadonlySet<string>,
    private readonly targetSites: readonly number[] = [],
  ) {}

  begin(out: number[]): void {
    this.lastTask = -1;
    this.lastParked = '';
    this.parked = [];
    this.lockTaker = new Map();
    this.out = out;
    this.pairsAtTargets = this.targets ? new Set() : undefined;
    this.lastSum = this.sum();
    this.lastRanChanged = false;
    this.stops = new Map();
    this.reservoir = new Prng(0x9e3779b9);
  }

  /** One step per distinct preemption point of the run (first-seen order): where a parking preemption can land (runner/mutate/schedule.ts). */
  points(): Uint32Array {
    const out = new Uint32Array(this.stops.size);
    let i = 0;
    for (const s of this.stops.values()) out[i++] = s.step;
    return out;
  }

  private sum(): number {
    let n = 0;
    for (const i of this.targetSites) n += this.hits[i]!;
    return n;
  }

  afterStep(ctx: RunContext): void {
    const ex = ctx.execution;
    const task = ex.currentTask;
    if (!task) return;
    const id = task.id;
    const from = this.parked[id] ?? 'start';
    let ranChanged = false;
    if (this.targetSites.length) {
      const sum = this.sum();
      ranChanged = sum !== this.lastSum;
      this.lastSum = sum;
    }
    if (id !== this.lastTask && this.lastTask >= 0) {
      this.out.push(feature(FeatureKind.Pair, labelId(this.lastParked), labelId(from)));
      const t = this.targets;
      if (t && (t.has(this.lastParked) || t.has(from) || ranChanged || this.lastRanChanged)) this.pairsAtTargets!.add(`${this.lastParked}|${from}`);
    }
    this.lastRanChanged = ranChanged;
    const held = task.held;
    for (let i = held.length - 1; i >= 0 && held[i]!.at === ex.step; i--) this.tookLock(held[i]!.lock, id, from);
    this.lastTask = id;
    this.lastParked = this.parked[id] = task.label;
    if (task.state === 'runnable') this.stopped(task.label, ex.step + 1);
  }

  private stopped(label: string, step: number): void {
    const s = this.stops.get(label);
    if (!s) this.stops.set(label, { n: 1, step });
    else if (this.reservoir.below(++s.n) === 0) s.step = step;
  }

  private tookLock(lock: HeldLockRef, task: number, label: string): void {
    const prev = this.lockTaker.get(lock);
    if (prev && prev.task !== task) this.out.push(feature(FeatureKind.LockOrder, labelId(lock.lockClass.name), labelId(prev.label), labelId(label)));
    this.lockTaker.set(lock, { task, label });
  }
}
