// The default campaign (runner fuzz() with default options) on one core:
// executions/s and engine steps/s with all properties on and with them off,
// the RSS before and after a long run, and growth as programs get bigger.
import { fuzz, type FuzzOptions } from '../runner/index.ts';
import { loadavg, timed, type Load } from './util.ts';

export interface CampaignFigure {
  readonly label: string;
  readonly seconds: number;
  readonly runs: number;
  readonly steps: number;
  readonly violations: number;
  readonly execsPerSec: number;
  readonly stepsPerSec: number;
  readonly nsPerStep: number;
  /** The same, per CPU-second of this process: less sensitive to other jobs on the machine. */
  readonly cpuSeconds: number;
  readonly execsPerCpuSec: number;
  readonly stepsPerCpuSec: number;
  readonly nsPerStepCpu: number;
  readonly load: Load;
}

export function campaign(label: string, seconds: number, o: FuzzOptions = {}): CampaignFigure {
  const t = timed(() => fuzz({ timeMs: seconds * 1000, ...o }));
  const r = t.value;
  const s = r.elapsedMs / 1000;
  return {
    label,
    seconds: s,
    runs: r.runs,
    steps: r.steps,
    violations: r.violations.length,
    execsPerSec: r.runs / s,
    stepsPerSec: r.steps / s,
    nsPerStep: (s * 1e9) / r.steps,
    cpuSeconds: t.cpuS,
    execsPerCpuSec: r.runs / t.cpuS,
    stepsPerCpuSec: r.steps / t.cpuS,
    nsPerStepCpu: (t.cpuS * 1e9) / r.steps,
    load: t.load,
  };
}

export interface MemoryFigure {
  readonly rssStartMB: number;
  readonly rssAfterMB: number;
  readonly rssMaxMB: number;
  readonly heapUsedAfterMB: number;
  readonly seconds: number;
  readonly load: Load;
}

const MB = 1024 * 1024;

/**
 * The default campaign with all properties, long enough to see memory grow:
 * RSS before it and after it (and the largest sample on the way). Its
 * throughput is the headline "all properties" figure.
 */
export function defaultCampaignWithMemory(seconds: number): { all: CampaignFigure; memory: MemoryFigure } {
  const rssStart = process.memoryUsage().rss;
  let rssMax = rssStart;
  const all = campaign('default campaign, all properties', seconds, {
    onProgress: () => {
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    },
  });
  const m = process.memoryUsage();
  rssMax = Math.max(rssMax, m.rss);
  return {
    all,
    memory: { rssStartMB: rssStart / MB, rssAfterMB: m.rss / MB, rssMaxMB: rssMax / MB, heapUsedAfterMB: m.heapUsed / MB, seconds: all.seconds, load: loadavg() },
  };
}

export interface GrowthCell extends CampaignFigure {
  readonly maxOpsPerThread: number;
  readonly maxThreads: number;
}

/** Executions/s as programs grow; the generator caps maxThreads at 3. */
export function growth(secondsPerCell: number, ops: readonly number[] = [4, 8, 16, 32], threads: readonly number[] = [1, 2, 3]): GrowthCell[] {
  const out: GrowthCell[] = [];
  for (const t of threads) {
    for (const n of ops) {
      const c = campaign(`maxOpsPerThread ${n}, maxThreads ${t}`, secondsPerCell, { program: { maxOpsPerThread: n, maxThreads: t } });
      out.push({ ...c, maxOpsPerThread: n, maxThreads: t });
    }
  }
  return out;
}
