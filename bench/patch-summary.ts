// One patch's campaigns summed up: runs and seconds to detection, median and
// max over the caught seeds, and the shrunk repro's size.
import type { Kind } from './patches.ts';
import { loadavg, median, type Load } from './util.ts';

export interface PatchRun {
  readonly seed: number;
  /** Caught by the property the header expects. */
  readonly caught: boolean;
  /** The property that fired, if any (a mismatch when it is not the expected one). */
  readonly property?: string;
  readonly runs: number;
  /** Wall seconds to the end of the failing run (shrink and replay excluded), or the budget on a miss. */
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly shrink?: { ops: number; switches: number; fromOps: number; fromSwitches: number; runs: number; ms: number };
}

export interface PatchKindSummary {
  readonly kind: Kind;
  readonly seeds: number;
  readonly caught: number;
  readonly misses: number;
  readonly mismatches: number;
  /** Over caught runs only; undefined when none was caught. */
  readonly medianSeconds?: number;
  readonly maxSeconds?: number;
  readonly medianRuns?: number;
  readonly maxRuns?: number;
  readonly medianOps?: number;
  readonly maxOps?: number;
  readonly medianSwitches?: number;
  readonly maxSwitches?: number;
  readonly medianShrinkMs?: number;
  readonly maxShrinkMs?: number;
  readonly runsDetail: readonly PatchRun[];
  readonly load: Load;
}

export function summarize(kind: Kind, runs: PatchRun[]): PatchKindSummary {
  const ok = runs.filter((r) => r.caught);
  const s = (f: (r: PatchRun) => number): [number | undefined, number | undefined] => (ok.length ? [median(ok.map(f)), Math.max(...ok.map(f))] : [undefined, undefined]);
  const [medianSeconds, maxSeconds] = s((r) => r.seconds);
  const [medianRuns, maxRuns] = s((r) => r.runs);
  const [medianOps, maxOps] = s((r) => r.shrink!.ops);
  const [medianSwitches, maxSwitches] = s((r) => r.shrink!.switches);
  const [medianShrinkMs, maxShrinkMs] = s((r) => r.shrink!.ms);
  return {
    kind,
    seeds: runs.length,
    caught: ok.length,
    misses: runs.filter((r) => r.property === undefined).length,
    mismatches: runs.filter((r) => r.property !== undefined && !r.caught).length,
    medianSeconds,
    maxSeconds,
    medianRuns,
    maxRuns,
    medianOps,
    maxOps,
    medianSwitches,
    maxSwitches,
    medianShrinkMs,
    maxShrinkMs,
    runsDetail: runs,
    load: loadavg(),
  };
}
