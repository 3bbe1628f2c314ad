// Executions/s with 1 and 2 workers, through the CLI:
// `node cli/bin.js fuzz --workers N --time Ts --json` (last stdout line is JSON).
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT } from '../mutation/workspace.ts';
import { loadavg, type Load } from './util.ts';

export interface ScalingRow {
  readonly workers: number;
  readonly available: boolean;
  readonly execsPerSec?: number;
  readonly runs?: number;
  readonly steps?: number;
  readonly elapsedMs?: number;
  /** User + system CPU seconds of the CLI process and its worker threads. */
  readonly cpuSeconds?: number;
  readonly execsPerCpuSec?: number;
  readonly wallSeconds: number;
  readonly note?: string;
  readonly load: Load;
}

function hasWorkersFlag(): boolean {
  const r = spawnSync(process.execPath, ['cli/bin.js', 'fuzz', '--help'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
  return /--workers/.test(r.stdout ?? '');
}

export function scaling(seconds: number, workerCounts: readonly number[] = [1, 2]): ScalingRow[] {
  if (!hasWorkersFlag()) return workerCounts.map((w) => ({ workers: w, available: false, wallSeconds: 0, note: 'not available: cli fuzz has no --workers', load: loadavg() }));
  return workerCounts.map((w) => {
    const t0 = performance.now();
    // `time -f` is not everywhere; ask bash for the child's CPU time with TIMEFORMAT.
    const r = spawnSync('bash', ['-c', `TIMEFORMAT='CPU %U %S'; time ${JSON.stringify(process.execPath)} cli/bin.js fuzz --workers ${w} --time ${seconds}s --json`], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: (seconds + 120) * 1000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const wallSeconds = (performance.now() - t0) / 1000;
    const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
    const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
    const cpuSeconds = cpu ? Number(cpu[1]) + Number(cpu[2]) : undefined;
    try {
      const j = JSON.parse(last) as { execsPerSec: number; runs: number; steps: number; elapsedMs: number };
      return {
        workers: w,
        available: true,
        execsPerSec: j.execsPerSec,
        runs: j.runs,
        steps: j.steps,
        elapsedMs: j.elapsedMs,
        cpuSeconds,
        execsPerCpuSec: cpuSeconds ? j.runs / cpuSeconds : undefined,
        wallSeconds,
        load: loadavg(),
      };
    } catch {
      return { workers: w, available: false, wallSeconds, note: `no JSON on the last stdout line (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' / ')}`, load: loadavg() };
    }
  });
}
