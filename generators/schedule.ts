import fc from 'fast-check';
import { ParkAt, Pct, PreemptionBounded, RandomWalk, Replay, SYNC_KINDS, type Schedule, type Strategy, type SyncKind } from '../engine/index.ts';
import { GeneratorOptionsError } from './errors.ts';

/**
 * A schedule as data, so that it can be stored in a corpus entry and replayed.
 * PCT and preemption-bounded place their points on steps, or with `at` on
 * synchronization events of those kinds (engine/sched/sync.ts; maxSteps is
 * then k in events). A spec without `at` is as it always was.
 */
export type ScheduleSpec =
  | { readonly kind: 'random'; readonly seed: number }
  | { readonly kind: 'pct'; readonly seed: number; readonly depth: number; readonly maxSteps: number; readonly at?: readonly SyncKind[] }
  | { readonly kind: 'pb'; readonly seed: number; readonly preemptions: number; readonly maxSteps: number; readonly at?: readonly SyncKind[]; readonly park?: boolean }
  | { readonly kind: 'replay'; readonly switches: Schedule; readonly park?: ParkPoint };

/**
 * A replay that ends in one parking preemption (engine/sched/park-at.ts): the
 * switches before `step` replayed, then at `step` a random other task (from
 * `seed`) takes over and the preempted one is kept off the CPU.
 */
export interface ParkPoint {
  readonly step: number;
  readonly seed: number;
}

export function makeStrategy(s: ScheduleSpec): Strategy {
  switch (s.kind) {
    case 'random':
      return new RandomWalk(s.seed);
    case 'pct':
      return new Pct({ seed: s.seed, depth: s.depth, maxSteps: s.maxSteps, at: s.at });
    case 'pb':
      return new PreemptionBounded({ seed: s.seed, preemptions: s.preemptions, maxSteps: s.maxSteps, at: s.at, park: s.park });
    case 'replay':
      return s.park ? new ParkAt(s.switches, s.park.step, s.park.seed) : new Replay(s.switches);
  }
}

export type ScheduleKind = 'random' | 'pct' | 'pb' | 'replay';

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['random', 'pct', 'pb', 'replay'];

export interface ScheduleArbOptions {
  /** Which kinds to draw (default random walk, PCT and preemption-bounded). */
  readonly kinds?: readonly ScheduleKind[];
  /** PCT's k: an estimate of the steps of one run. */
  readonly pctSteps?: number;
  readonly maxDepth?: number;
  /** Preemption-bounded: k, the steps its preemption points fall in, and c, at most this many preemptions. */
  readonly pbSteps?: number;
  readonly maxPreemptions?: number;
  /**
   * PCT and preemption-bounded draw half of their schedules with points on
   * synchronization events (a non-empty set of kinds) instead of steps: k is
   * this many events per kind counted. 0: steps only, as before. (Half, not
   * two in three: the events reach hand-made windows 3-12x as often, but a
   * one-seed catalogue run at two in three lost 019 on seed 0; half keeps the
   * step points that caught what is caught today.)
   */
  readonly syncSteps?: number;
}

/** Schedules: random walk, PCT parameters, preemption-bounded parameters, or an explicit switch list. */
export function scheduleArb(options: ScheduleArbOptions = {}): fc.Arbitrary<ScheduleSpec> {
  const kinds = options.kinds ?? ['random', 'pct', 'pb'];
  const pctSteps = options.pctSteps ?? 300;
  const maxDepth = options.maxDepth ?? 4;
  // A default campaign's run takes about 80 steps (docs/benchmarks.md): most points fall inside it.
  const pbSteps = options.pbSteps ?? 128;
  const maxPreemptions = options.maxPreemptions ?? 2;
  // A default run releases (and takes) about 20 locks (median; 95th percentile 76).
  const syncSteps = options.syncSteps ?? 32;
  if (kinds.length === 0) throw new GeneratorOptionsError(`scheduleArb: kinds must name at least one of ${SCHEDULE_KINDS.join(', ')}`);
  for (const k of kinds) if (!SCHEDULE_KINDS.includes(k)) throw new GeneratorOptionsError(`scheduleArb: unknown schedule kind ${JSON.stringify(k)}; use ${SCHEDULE_KINDS.join(', ')}`);
  if (!Number.isInteger(pbSteps) || pbSteps < 1) throw new GeneratorOptionsError(`scheduleArb: pbSteps must be a positive integer, got ${pbSteps}`);
  if (!Number.isInteger(maxPreemptions) || maxPreemptions < 1) throw new GeneratorOptionsError(`scheduleArb: maxPreemptions must be a positive integer, got ${maxPreemptions}`);
  if (!Number.isInteger(pctSteps) || pctSteps < 1) throw new GeneratorOptionsError(`scheduleArb: pctSteps must be a positive integer, got ${pctSteps}`);
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw new GeneratorOptionsError(`scheduleArb: maxDepth must be a positive integer, got ${maxDepth}`);
  if (!Number.isInteger(syncSteps) || syncSteps < 0) throw new GeneratorOptionsError(`scheduleArb: syncSteps must be a non-negative integer, got ${syncSteps}`);
  const arbs: fc.Arbitrary<ScheduleSpec>[] = [];
  if (kinds.includes('random')) arbs.push(fc.record({ kind: fc.constant('random' as const), seed: fc.nat() }));
  if (kinds.includes('pct')) {
    const depth = fc.integer({ min: 1, max: maxDepth });
    const onSteps = fc.record({ kind: fc.constant('pct' as const), seed: fc.nat(), depth, maxSteps: fc.constant(pctSteps) });
    const onSyncs = fc.tuple(fc.nat(), depth, syncKindsArb()).map(([seed, d, at]) => ({ kind: 'pct' as const, seed, depth: d, maxSteps: syncSteps * at.length, at }));
    arbs.push(syncSteps > 0 ? fc.oneof({ arbitrary: onSteps, weight: 1 }, { arbitrary: onSyncs, weight: 1 }) : onSteps);
  }
  if (kinds.includes('pb')) {
    const preemptions = fc.integer({ min: 1, max: maxPreemptions });
    const onSteps = fc.record({ kind: fc.constant('pb' as const), seed: fc.nat(), preemptions, maxSteps: fc.constant(pbSteps) });
    const onSyncs = fc.tuple(fc.nat(), preemptions, syncKindsArb()).map(([seed, c, at]) => ({ kind: 'pb' as const, seed, preemptions: c, maxSteps: syncSteps * at.length, at }));
    const pb = syncSteps > 0 ? fc.oneof({ arbitrary: onSteps, weight: 1 }, { arbitrary: onSyncs, weight: 1 }) : onSteps;
    // Half of them park the task a point preempts (preemption-bounded.ts): a window held open through the other side's sleeps.
    arbs.push(fc.tuple(pb, fc.boolean()).map(([s, park]) => (park ? { ...s, park } : s)));
  }
  if (kinds.includes('replay')) {
    arbs.push(
      fc
        .uniqueArray(fc.record({ step: fc.nat(pctSteps), task: fc.nat(8) }), { selector: (s) => s.step, maxLength: 12 })
        .map((sw) => ({ kind: 'replay' as const, switches: [...sw].sort((a, b) => a.step - b.step) })),
    );
  }
  return fc.oneof(...arbs);
}

/**
 * A non-empty set of synchronization event kinds, in SYNC_KINDS order:
 * releases alone half the time (the windows issue 18 is about open there:
 * a downgrade, an unlock before a relock), else any set.
 */
function syncKindsArb(): fc.Arbitrary<SyncKind[]> {
  return fc.oneof(fc.constant<SyncKind[]>(['release']), fc.subarray([...SYNC_KINDS], { minLength: 1 }));
}
