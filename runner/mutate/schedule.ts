/**
 * Schedule mutations of the coverage-guided campaign: a seeded schedule gets
 * a new seed or a deeper bound (one more preemption, one more PCT change
 * point, up to MAX_DEPTH); the switch list a run recorded gets a switch added,
 * moved or removed, or a switch's task changed; or the recorded run is
 * replayed up to a preemption point drawn uniformly over the distinct points
 * it stopped at, and preempted there with the task parked
 * (engine/sched/park-at.ts). Pure.
 *
 * Why the last: every other placement is uniform over steps (or lock
 * events), so a point is drawn as often as the run stops at it. A window
 * that opens at a lockless read (do_swap_page's direct read of a slot,
 * shmem_swapin_folio's swap cache lookup) is one step of a run's hundreds and
 * is never a lock event; drawn over the points instead, it is one of a few
 * dozen. And parked there, the preempted task stays in its window through the
 * other side's sleeps (swapoff's grace periods), as the other side needs.
 */
import type { Schedule, Switch } from '../../engine/index.ts';
import type { Prng } from '../../engine/sched/prng.ts';
import type { ScheduleSpec } from '../../generators/index.ts';

/** The deepest preemption bound and PCT depth a mutant reaches. */
export const MAX_DEPTH = 8;

export interface ScheduleParent {
  readonly spec: ScheduleSpec;
  /** The switches the parent's run made (its canonical schedule). */
  readonly recorded: Schedule;
  /** Steps and tasks of the parent's run, so a new switch lands inside it. */
  readonly steps: number;
  readonly tasks: number;
  /** One step per distinct preemption point the parent's run stopped at (runner/coverage/interleaving.ts). */
  readonly points?: Uint32Array;
}

function deeper(s: ScheduleSpec, rng: Prng, maxDepth: number): ScheduleSpec {
  const seed = rng.nextU32() >>> 1;
  if (s.kind === 'pb') return { ...s, seed, preemptions: Math.min(maxDepth, s.preemptions + 1) };
  if (s.kind === 'pct') return { ...s, seed, depth: Math.min(maxDepth, s.depth + 1) };
  return s.kind === 'random' ? { kind: 'pb', seed, preemptions: 1 + rng.below(maxDepth), maxSteps: 128 } : s;
}

function edit(recorded: Schedule, rng: Prng, steps: number, tasks: number): Switch[] {
  const sw = [...recorded];
  const what = sw.length === 0 ? 0 : rng.below(4);
  const at = (): number => rng.below(Math.max(1, steps));
  const task = (): number => rng.below(Math.max(1, tasks));
  if (what === 0) sw.push({ step: at(), task: task() });
  else if (what === 1) sw.splice(rng.below(sw.length), 1);
  else if (what === 2) {
    const i = rng.below(sw.length);
    sw[i] = { step: Math.max(0, sw[i]!.step + rng.below(9) - 4), task: sw[i]!.task };
  } else {
    const i = rng.below(sw.length);
    sw[i] = { step: sw[i]!.step, task: task() };
  }
  // One switch per step, in step order (what Replay expects).
  const byStep = new Map<number, Switch>();
  for (const s of sw) byStep.set(s.step, s);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** The parent's run replayed to one of its preemption points, drawn uniformly over the points, and preempted there, parked. */
function parkAtPoint(recorded: Schedule, points: Uint32Array, rng: Prng): ScheduleSpec {
  const step = points[rng.below(points.length)]!;
  const switches = recorded.filter((s) => s.step < step);
  return { kind: 'replay', switches, park: { step, seed: rng.nextU32() >>> 1 } };
}

/** A mutant schedule: a reseed, a deeper bound (maxDepth caps it), an edit of the recorded switches, or a parking preemption at a point. */
export function mutateSchedule(p: ScheduleParent, rng: Prng, maxDepth = MAX_DEPTH): ScheduleSpec {
  const r = rng.below(5);
  if (r === 4) return p.points && p.points.length > 0 ? parkAtPoint(p.recorded, p.points, rng) : { kind: 'replay', switches: edit(p.recorded, rng, p.steps, p.tasks) };
  if (r === 0 && p.spec.kind !== 'replay') return { ...p.spec, seed: rng.nextU32() >>> 1 };
  if (r === 1) return deeper(p.spec, rng, maxDepth);
  return { kind: 'replay', switches: edit(p.recorded, rng, p.steps, p.tasks) };
}
