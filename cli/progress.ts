import cliProgress from 'cli-progress';
import type { FuzzProgress } from '../runner/index.ts';
import type { Io } from './io.ts';
import { statusLine, type Budget } from './status.ts';

/** The live line of a campaign, and a way to print above it. */
export interface Progress {
  update(p: FuzzProgress): void;
  /** Print a block of text without tearing the live line. */
  log(text: string): void;
  stop(): void;
}

/** How often a non-TTY (a CI log) gets a status line. */
export const STATUS_EVERY_MS = 10_000;

const NONE: FuzzProgress = { runs: 0, violations: 0, elapsedMs: 0, execsPerSec: 0 };

/**
 * On a pipe or a CI log, libFuzzer-style: a `fuzz: started` line once the
 * workers run, then a status line on stderr every 10 s (none when the
 * campaign ends sooner), so stdout stays the report and the --json line.
 */
function statusLines(io: Io, budget: Budget, everyMs: number): Progress {
  let last = NONE;
  let started = false;
  const timer = setInterval(() => started && io.stderr.write(`fuzz: ${statusLine(last, budget)}\n`), everyMs);
  timer.unref();
  return {
    update(p) {
      if (!started) io.stderr.write(`fuzz: started${budget.runs !== undefined ? `, ${budget.runs} runs` : budget.timeMs !== undefined ? `, for ${Math.round(budget.timeMs / 1000)} s` : ''}\n`);
      started = true;
      last = p;
    },
    log: (t) => io.stdout.write(`${t}\n`),
    stop: () => clearInterval(timer),
  };
}

/** A progress line on a terminal (with the total and an ETA when the campaign has a size); status lines elsewhere. */
export function startProgress(io: Io, budget: Budget = {}, everyMs = STATUS_EVERY_MS): Progress {
  const out = io.stdout;
  if (!out.isTTY) return statusLines(io, budget, everyMs);
  const bar = new cliProgress.SingleBar({
    stream: out as NodeJS.WritableStream,
    format: 'fuzzing: {status}',
    hideCursor: true,
    clearOnComplete: true,
    fps: 5,
  });
  let last = NONE;
  const payload = (p: FuzzProgress) => ({ status: statusLine(p, budget) });
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
