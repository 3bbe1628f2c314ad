/**
 * Swarm testing over the generators' OPTIONS, not only over op kinds (Groce
 * et al., "Swarm testing", ISSTA 2012; syzkaller's choice table): each fresh
 * program of a campaign draws its own shape (the mix, the fault mode, how
 * many processes, threads, pages, regions and ops, how far into a run a
 * preemption may fall) from this table. A shape the campaign never draws is
 * a part of the model it never runs; a bug that needs three threads hammering
 * one small mapping, or 24-op threads, or speculative faults, is out of reach
 * of a campaign whose every program has the default shape.
 *
 * A new dimension is one more row. Options a campaign fixes (`--program`)
 * are left out of the swarm. Weights are priors: a patch-directed campaign
 * learns which values reach the patch (runner/swarm-choices.ts).
 */
import type { ProgramArbOptions } from './options.ts';
import type { ScheduleArbOptions } from './schedule.ts';

export interface SwarmDimension {
  /** The option it sets: a key of ProgramArbOptions or of ScheduleArbOptions. */
  readonly key: keyof ProgramArbOptions | keyof ScheduleArbOptions;
  readonly of: 'program' | 'schedule';
  readonly values: readonly (number | boolean | string)[];
  /** Prior weights, one per value: the defaults weigh most. */
  readonly weights: readonly number[];
}

export const OPTION_SWARM: readonly SwarmDimension[] = [
  { key: 'vmaRace', of: 'program', values: [false, true], weights: [3, 1] },
  { key: 'faultMode', of: 'program', values: ['vma-lock', 'spf'], weights: [3, 1] },
  { key: 'maxProcesses', of: 'program', values: [1, 2, 3], weights: [1, 2, 2] },
  { key: 'maxThreads', of: 'program', values: [1, 2, 3], weights: [1, 2, 2] },
  { key: 'maxPages', of: 'program', values: [1, 2, 3, 6], weights: [1, 1, 2, 1] },
  { key: 'regions', of: 'program', values: [1, 2], weights: [1, 2] },
  { key: 'maxOpsPerThread', of: 'program', values: [3, 6, 12, 24], weights: [1, 3, 1, 1] },
  // Long programs run past the default 128 steps in which preemptions fall.
  { key: 'pbSteps', of: 'schedule', values: [128, 512], weights: [3, 1] },
  // Points on synchronization events: k per kind counted (long programs take and drop more locks).
  { key: 'syncSteps', of: 'schedule', values: [32, 128], weights: [3, 1] },
];

/** The dimensions a campaign draws: those its fixed options do not set. */
export function swarmDimensions(program: ProgramArbOptions = {}, schedule: ScheduleArbOptions = {}): SwarmDimension[] {
  return OPTION_SWARM.filter((d) => (d.of === 'program' ? !(d.key in program) : !(d.key in schedule)));
}

/** The options of one choice (an index into each dimension's values), over the fixed ones. */
export function swarmOptions(
  dims: readonly SwarmDimension[],
  choice: readonly number[],
  program: ProgramArbOptions = {},
  schedule: ScheduleArbOptions = {},
): { program: ProgramArbOptions; schedule: ScheduleArbOptions } {
  const p: Record<string, unknown> = { ...program };
  const s: Record<string, unknown> = { ...schedule };
  dims.forEach((d, i) => ((d.of === 'program' ? p : s)[d.key] = d.values[choice[i]!]));
  return { program: p as ProgramArbOptions, schedule: s as ScheduleArbOptions };
}
