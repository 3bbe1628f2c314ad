/**
 * A run's interleaving coverage, from the per-step hook: each context switch
 * gives the pair (the preemption point the last task parked at, the one the
 * next task resumes from); each lock taken by another task than the one that
 * took it before gives (lock class, the earlier taker's point, this one's).
 * Preemption points are yield labels ("copy_present_pte: wrprotect src pte").
 */
import type { HeldLockRef } from '../../engine/sched/task.ts';
import type { RunContext } from '../../engine/program/executor.ts';
import { feature, FeatureKind } from './features.ts';

/** Label ids, per thread, so features stay numbers. */
const ids = new Map<string, number>();
export function labelId(s: string): number {
  let id = ids.get(s);
  if (id === undefined) ids.set(s, (id = ids.size + 1));
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

  constructor(private readonly targets?: ReadonlySet<string>) {}

  begin(out: number[]): void {
    this.lastTask = -1;
    this.lastParked = '';
    this.parked = [];
    this.lockTaker = new Map();
    this.out = out;
    this.pairsAtTargets = this.targets ? new Set() : undefined;
  }

  afterStep(ctx: RunContext): void {
    const ex = ctx.execution;
    const task = ex.currentTask;
    if (!task) return;
    const id = task.id;
    const from = this.parked[id] ?? 'start';
    if (id !== this.lastTask && this.lastTask >= 0) {
      this.out.push(feature(FeatureKind.Pair, labelId(this.lastParked), labelId(from)));
      if (this.targets && (this.targets.has(this.lastParked) || this.targets.has(from))) this.pairsAtTargets!.add(`${this.lastParked}|${from}`);
    }
    const held = task.held;
    for (let i = held.length - 1; i >= 0 && held[i]!.at === ex.step; i--) this.tookLock(held[i]!.lock, id, from);
    this.lastTask = id;
    this.lastParked = this.parked[id] = task.label;
  }

  private tookLock(lock: HeldLockRef, task: number, label: string): void {
    const prev = this.lockTaker.get(lock);
    if (prev && prev.task !== task) this.out.push(feature(FeatureKind.LockOrder, labelId(lock.lockClass.name), labelId(prev.label), labelId(label)));
    this.lockTaker.set(lock, { task, label });
  }
}
