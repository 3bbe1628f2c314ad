/**
 * Whether this machine can run `kernel diff --thp MODE`: a kernel with
 * anonymous THP offering the mode, and a 2 MiB PMD (live/c/exec.h scales a
 * model page to 2 MiB / 16). Root and cc are build.ts's to check.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { ThpMode } from './encode.ts';

const DIR = '/sys/kernel/mm/transparent_hugepage';
const MACHINE_LOCK = '/var/tmp/mmfuzz-kernel.lock';

/** A knob's setting: the bracketed word of "always [madvise] never", or the text. */
function setting(text: string): string {
  return /\[(\w+)\]/.exec(text)?.[1] ?? text.trim();
}

/**
 * The knobs' settings between kernel-side runs: read under the machine's
 * lock (live/c/main.c takes it), so that no run that sets them is under way.
 */
export function thpKnobs(names: readonly string[]): string[] {
  const r = spawnSync('flock', [MACHINE_LOCK, 'sh', '-c', 'for f; do cat "$f"; echo @; done', 'sh', ...names.map((n) => `${DIR}/${n}`)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot read ${DIR} under ${MACHINE_LOCK}: ${r.stderr.trim()}`);
  return r.stdout.split('@\n').slice(0, names.length).map(setting);
}

/** Why THP mode cannot run here, or undefined. */
export function thpUnavailable(mode: ThpMode): string | undefined {
  if (!existsSync(`${DIR}/enabled`)) return `no ${DIR} (a kernel without CONFIG_TRANSPARENT_HUGEPAGE)`;
  const choices = readFileSync(`${DIR}/enabled`, 'utf8').trim();
  if (!choices.replace(/[[\]]/g, '').split(/\s+/).includes(mode)) return `THP enabled=${mode} is not offered here (${choices})`;
  const size = existsSync(`${DIR}/hpage_pmd_size`) ? readFileSync(`${DIR}/hpage_pmd_size`, 'utf8').trim() : '?';
  if (size !== '2097152') return `the PMD size is ${size} bytes, not 2 MiB (THP mode maps the model's 16-page THP to 2 MiB)`;
  return undefined;
}
