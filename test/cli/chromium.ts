import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';

/** Chromium's screenshot of a file, at 1400×900, in a fresh profile and without any network. */
export function screenshot(html: string, png: string): void {
  const profile = mkdtempSync(join(tmpdir(), 'mmfuzz-chromium-'));
  try {
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
    const r = spawnSync(CHROMIUM, [...flags, `--user-data-dir=${profile}`, `--screenshot=${png}`, '--window-size=1400,900', pathToFileURL(html).href], { timeout: 60_000, encoding: 'utf8' });
    if (!existsSync(png)) throw new Error(`chromium wrote no screenshot (exit ${r.status}): ${r.stderr.slice(-500)}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
