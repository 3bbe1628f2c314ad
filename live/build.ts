/**
 * Builds the C executor (live/c/*.c) with the machine's cc into
 * live/build/, once per source change (the binary's name carries a hash of
 * the sources). Says in one line why it cannot run here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelUnavailableError } from './errors.ts';

const LIVE = dirname(fileURLToPath(import.meta.url));

/** Why this machine cannot run kernel-side programs (no root, no cc, not Linux), or undefined. */
export function kernelUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (the executor sets nr_hugepages and turns swap on)';
  if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0) return 'no C compiler (cc) on PATH';
  return undefined;
}

/** Compile the C files of dir (a subdirectory of live/) into one binary; its path. */
export function buildC(dir: string, name: string): string {
  const why = kernelUnavailable();
  if (why) throw new KernelUnavailableError(why);
  const src = join(LIVE, dir);
  const files = readdirSync(src).filter((f) => f.endsWith('.c') || f.endsWith('.h')).sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(readFileSync(join(src, f)));
  const out = join(LIVE, 'build', `${name}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const cs = files.filter((f) => f.endsWith('.c')).map((f) => join(src, f));
  execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', out, ...cs], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** The executor's binary, built if needed. */
export function executorBinary(): string {
  return buildC('c', 'mmfuzz-exec');
}
