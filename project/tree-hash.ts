import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * A content hash of a directory tree: sorted relative paths and bytes, so it
 * is the same on every machine. Names the engine version a corpus entry was
 * found with, and lets tests prove a check left the working tree alone.
 */
export function hashTree(dir: string): string {
  const h = createHash('sha256');
  const files = (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => relative(dir, f).split(sep).join('/'))
    .sort();
  for (const rel of files) {
    h.update(rel).update('\0').update(readFileSync(join(dir, rel))).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}
