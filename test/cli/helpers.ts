import { spawn } from 'node:child_process';
import { main } from '../../cli/main.ts';

export interface Ran {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** main() in this process, its output captured (stdout is no TTY: no progress line). */
export async function mmfuzz(...argv: string[]): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } });
  return { code, out: out.join(''), err: err.join('') };
}

/**
 * `node cli/bin.js ...` as a user runs it. `onStdout` sees stdout as it
 * arrives and may signal the child; `onSpawn` gets the same signal function
 * at once (for a timer).
 */
export function spawnMmfuzz(
  argv: readonly string[],
  onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void,
  onSpawn?: (kill: (s: NodeJS.Signals) => void) => void,
  onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['cli/bin.js', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    onSpawn?.((s) => child.kill(s));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      onStdout?.(out, (s) => child.kill(s));
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
      onStderr?.(err, (s) => child.kill(s));
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

export function lastJson(out: string): Record<string, unknown> {
  const lines = out.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** The --json line without what depends on the clock. */
export function untimed(j: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(j, (k, v: unknown) => (k === 'elapsedMs' || k === 'execsPerSec' || k === 'ms' ? undefined : v)));
}

export function assertOneLine(s: string): void {
  if (s.trimEnd().includes('\n') || s.trim() === '') throw new Error(`expected one line on stderr, got: ${JSON.stringify(s)}`);
}

/**
 * `node cli/bin.js ...`, sent `signal` once it has reported a violation, or
 * `afterMs` after its campaign started (the `fuzz: started` status line),
 * whichever comes first.
 */
export function interruptMmfuzz(argv: readonly string[], signal: NodeJS.Signals, afterMs: number): Promise<Ran> {
  let sent = false;
  let timer: NodeJS.Timeout | undefined;
  let kill: ((s: NodeJS.Signals) => void) | undefined;
  const send = (): void => {
    if (sent || !kill) return;
    sent = true;
    kill(signal);
  };
  const ran = spawnMmfuzz(
    argv,
    (out) => {
      if (out.includes('VIOLATION')) send();
    },
    (k) => (kill = k),
    (err) => {
      if (timer === undefined && err.includes('fuzz: started')) timer = setTimeout(send, afterMs);
    },
  );
  return ran.then((r) => {
    clearTimeout(timer);
    if (!sent) throw new Error(`mmfuzz exited (${r.code}) before it was sent ${signal}: ${r.err}`);
    return r;
  });
}
