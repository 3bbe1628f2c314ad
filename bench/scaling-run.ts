// One scaling measurement in a fresh process (bench/scaling.ts starts it):
//   node --import tsx bench/scaling-run.ts WORKERS SECONDS WARMUP_SECONDS
// Runs the pool `mmfuzz fuzz --workers N --time Ts` runs, on this checkout,
// seed 0, and prints one JSON line (ScalingRun). Beside the whole run's rate
// it gives the rate after the warm-up: in its first seconds each worker's
// JIT compiles the model (about 5 CPU-seconds), which one worker does on the
// idle core and two workers take out of each other's time; a nightly
// campaign runs for hours after that.
import { CampaignPool } from '../cli/campaign/pool.ts';
import { PROJECT_ROOT } from '../mutation/workspace.ts';

export interface ScalingRun {
  readonly workers: number;
  readonly runs: number;
  readonly elapsedMs: number;
  readonly execsPerSec: number;
  /** Runs and rate from the first progress report at or after the warm-up to the last one. */
  readonly warm: { readonly fromMs: number; readonly runs: number; readonly ms: number; readonly execsPerSec: number };
  /** User + system CPU seconds of the process, all threads. */
  readonly cpuSeconds: number;
  readonly execsPerCpuSec: number;
}

const [workers, seconds, warmup] = process.argv.slice(2).map(Number) as [number, number, number];
const samples: { ms: number; runs: number }[] = [];
const c0 = process.cpuUsage();
const pool = new CampaignPool(
  { root: PROJECT_ROOT, fuzz: { seed: 0, timeMs: seconds * 1000 }, shard: { index: 0, count: 1 }, workers },
  { onProgress: (p) => samples.push({ ms: p.elapsedMs, runs: p.runs }) },
);
const { result } = await pool.done;
const cpu = process.cpuUsage(c0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const from = samples.find((s) => s.ms >= warmup * 1000) ?? samples[0] ?? { ms: 0, runs: 0 };
const to = samples[samples.length - 1] ?? from;
const warmMs = to.ms - from.ms;
const run: ScalingRun = {
  workers,
  runs: result.runs,
  elapsedMs: result.elapsedMs,
  execsPerSec: result.execsPerSec,
  warm: { fromMs: from.ms, runs: to.runs - from.runs, ms: warmMs, execsPerSec: warmMs > 0 ? ((to.runs - from.runs) * 1000) / warmMs : 0 },
  cpuSeconds,
  execsPerCpuSec: result.runs / cpuSeconds,
};
console.log(JSON.stringify(run));
