import type { FuzzProgress } from '../runner/index.ts';

/** A campaign's size, when it has one: --runs (this process's share) or --time. */
export interface Budget {
  readonly runs?: number;
  readonly timeMs?: number;
}

export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** Time left: the rest of --time, or the runs left at the rate so far; undefined when unknown. */
export function etaMs(p: FuzzProgress, b: Budget): number | undefined {
  if (b.timeMs !== undefined) return b.timeMs - p.elapsedMs;
  if (b.runs === undefined || p.execsPerSec <= 0) return undefined;
  return ((b.runs - p.runs) / p.execsPerSec) * 1000;
}

/** `1200/20000 runs (6%) | 950 execs/s | 0 violations | 12s, ETA 3m05s`: libFuzzer's status line, in words. */
export function statusLine(p: FuzzProgress, b: Budget): string {
  const runs = b.runs === undefined ? `${p.runs} runs` : `${p.runs}/${b.runs} runs (${Math.floor((100 * p.runs) / Math.max(1, b.runs))}%)`;
  const eta = etaMs(p, b);
  const v = `${p.violations} violation${p.violations === 1 ? '' : 's'}`;
  return `${runs} | ${Math.round(p.execsPerSec)} execs/s | ${v} | ${clock(p.elapsedMs)}${eta === undefined ? '' : `, ETA ${clock(eta)}`}`;
}
