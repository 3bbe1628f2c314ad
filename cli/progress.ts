import cliProgress from 'cli-progress';
import type { FuzzProgress } from '../runner/index.ts';
import type { Stream } from './io.ts';

/** The live line of a campaign, and a way to print above it. */
export interface Progress {
  update(p: FuzzProgress): void;
  /** Print a block of text without tearing the live line. */
  log(text: string): void;
  stop(): void;
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

const payload = (p: FuzzProgress): object => ({ runs: p.runs, rate: Math.round(p.execsPerSec), violations: p.violations, elapsed: clock(p.elapsedMs) });

/**
 * A progress line on a terminal; on anything else (a pipe, a CI log, a
 * test) nothing at all, so output stays the same from run to run.
 */
export function startProgress(out: Stream): Progress {
  if (!out.isTTY) return { update: () => {}, log: (t) => out.write(`${t}\n`), stop: () => {} };
  const bar = new cliProgress.SingleBar({
    stream: out as NodeJS.WritableStream,
    format: 'fuzzing: {runs} runs | {rate} execs/s | {violations} violations | {elapsed}',
    hideCursor: true,
    clearOnComplete: true,
    fps: 5,
  });
  let last: FuzzProgress = { runs: 0, violations: 0, elapsedMs: 0, execsPerSec: 0 };
  bar.start(0, 0, payload(last));
  return {
    update(p) {
      last = p;
      bar.update(p.runs, payload(p));
    },
    log(text) {
      bar.stop();
      out.write(`${text}\n`);
      bar.start(0, last.runs, payload(last));
    },
    stop: () => bar.stop(),
  };
}
