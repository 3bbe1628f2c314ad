// The cost of coverage (bench section `coverage`): the same inputs (the plain
// random campaign's, seed 0) run in fresh processes with and without
// coverage (bench/coverage-run.ts), alternating off, on, off, on, ...; the
// cost is 1 - (execs per CPU-second on / off), medians over the repeats.
import { execFileSync } from 'node:child_process';
import { median } from './util.ts';

export interface CoverageCostRun {
  readonly mode: 'on' | 'off';
  readonly runs: number;
  readonly steps: number;
  readonly cpuSeconds: number;
  readonly execsPerCpuSec: number;
  readonly branchSites: number;
  readonly features: number;
}

export interface CoverageCost {
  readonly runs: readonly CoverageCostRun[];
  readonly offExecsPerCpuSec: number;
  readonly onExecsPerCpuSec: number;
  /** 1 - on/off. */
  readonly cost: number;
}

function one(mode: 'on' | 'off', seconds: number, warmup: number): CoverageCostRun {
  const hook = mode === 'on' ? ['--import', './runner/coverage/register.ts'] : [];
  const out = execFileSync(process.execPath, ['--import', 'tsx', ...hook, 'bench/coverage-run.ts', mode, String(seconds), String(warmup)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as CoverageCostRun;
}

export function coverageCost(seconds: number, warmup: number, repeats: number): CoverageCost {
  const runs: CoverageCostRun[] = [];
  for (let k = 0; k < repeats; k++) for (const m of k % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) runs.push(one(m, seconds, warmup));
  const rate = (m: string): number => median(runs.filter((r) => r.mode === m).map((r) => r.execsPerCpuSec));
  const off = rate('off');
  const on = rate('on');
  return { runs, offExecsPerCpuSec: off, onExecsPerCpuSec: on, cost: 1 - on / off };
}
