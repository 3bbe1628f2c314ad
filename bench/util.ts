// Shared helpers for `npm run bench`: load, CPU time, medians, env knobs.
import { readFileSync } from 'node:fs';

/** The 1-minute load average as /proc/loadavg gives it (all three, and the raw line). */
export interface Load {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  readonly raw: string;
}

export function loadavg(): Load {
  let raw = '';
  try {
    raw = readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    // Not Linux: no load figure.
  }
  const [a, b, c] = raw.split(/\s+/).map(Number);
  return { load1: a ?? NaN, load5: b ?? NaN, load15: c ?? NaN, raw };
}

/** Wall and CPU time of a synchronous or async section, with the load at its end. */
export interface Timed<T> {
  readonly value: T;
  readonly wallS: number;
  /** User + system CPU seconds of this process (all its threads, GC included). */
  readonly cpuS: number;
  readonly load: Load;
}

export function timed<T>(f: () => T): Timed<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wallS, cpuS: (c.user + c.system) / 1e6, load: loadavg() };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function envNum(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v}: expected a non-negative number`);
  return n;
}

/** BENCH_ONLY=campaign,patches,... limits the sections run (default: all). */
export function sectionOn(name: string): boolean {
  const only = process.env.BENCH_ONLY;
  return !only || only.split(',').map((s) => s.trim()).includes(name);
}

export const fmt = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
