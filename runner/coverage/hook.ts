/**
 * The module hook (node:module register()) that instruments the model as it
 * loads: files under engine/mm, engine/kernel and engine/fs, of this checkout
 * or of a patched copy. The instrumented TypeScript is written to a
 * content-addressed file in the temp dir and handed to the next loader (tsx)
 * to compile; the module keeps its own URL, so its imports resolve as before.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prologue } from './registry.ts';

/** The model files that get counters. */
export const INSTRUMENTED = /\/engine\/(mm|kernel|fs)\/[^/]+\.ts$/;

const CACHE = join(tmpdir(), 'mmfuzz-coverage');
/** Bump when transform.ts or the prologue changes what it writes. */
const TRANSFORM_VERSION = '2';

interface LoadResult {
  format?: string;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context?: unknown) => Promise<LoadResult>;

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  if (!url.startsWith('file:') || !INSTRUMENTED.test(url.split('?')[0]!)) return nextLoad(url, context);
  const file = fileURLToPath(url.split('?')[0]!);
  const source = readFileSync(file, 'utf8');
  // Keyed by the source (and this transform's version): a file parses once, not at every start or in every patched copy.
  const cached = join(CACHE, `${createHash('sha1').update(TRANSFORM_VERSION).update(source).digest('hex')}.ts`);
  if (!existsSync(cached)) {
    mkdirSync(CACHE, { recursive: true });
    // Loaded on the first miss only: the TypeScript compiler costs the hook thread about a CPU-second to load, and most starts find every file cached.
    const { instrument } = await import('./transform.ts');
    const out = instrument(source, file, (_n, sites, functions) => prologue(sites, functions)).code;
    writeFileSync(`${cached}.${process.pid}.tmp`, out);
    renameSync(`${cached}.${process.pid}.tmp`, cached);
  }
  const r = await nextLoad(pathToFileURL(cached).href, context);
  return { ...r, shortCircuit: true };
}
