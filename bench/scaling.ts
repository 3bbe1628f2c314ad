// Executions/s with 1 and 2 workers: the pool `mmfuzz fuzz --workers N` runs,
// each measurement in a fresh process (bench/scaling-run.ts), so no worker
// count inherits another's warm JIT or heap. Repeats alternate the order
// (1, 2, then 2, 1, ...) so drift in the machine's speed falls on both.
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT } from '../mutation/workspace.ts';
import type { ScalingRun } from './scaling-run.ts';
import { loadavg, median, type Load } from './util.ts';

export interface ScalingRow {
  readonly workers: number;
  /** Medians over the repeats. */
  readonly execsPerSec: number;
  readonly warmExecsPerSec: number;
  readonly execsPerCpuSec: number;
  readonly runs: readonly ScalingRun[];
  readonly load: Load;
}

export interface ScalingOptions {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
  readonly workerCounts?: readonly number[];
}

function measure(workers: number, o: ScalingOptions): ScalingRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/scaling-run.ts', String(workers), String(o.seconds), String(o.warmupSeconds)], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: (o.seconds + 120) * 1000,
  });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as ScalingRun;
  } catch {
    throw new Error(`bench/scaling-run.ts ${workers} printed no JSON (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' / ')}`);
  }
}

export function scaling(o: ScalingOptions): ScalingRow[] {
  const counts = o.workerCounts ?? [1, 2];
  const runs = new Map<number, ScalingRun[]>(counts.map((w) => [w, []]));
  for (let rep = 0; rep < o.repeats; rep++) {
    for (const w of rep % 2 === 0 ? counts : [...counts].reverse()) runs.get(w)!.push(measure(w, o));
  }
  return counts.map((w) => {
    const rs = runs.get(w)!;
    return {
      workers: w,
      execsPerSec: median(rs.map((r) => r.execsPerSec)),
      warmExecsPerSec: median(rs.map((r) => r.warm.execsPerSec)),
      execsPerCpuSec: median(rs.map((r) => r.execsPerCpuSec)),
      runs: rs,
      load: loadavg(),
    };
  });
}
