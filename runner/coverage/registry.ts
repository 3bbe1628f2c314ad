/**
 * The branch counters of every instrumented model file loaded in this thread.
 * One registry per thread, on globalThis, so that a patched copy of the model
 * (mutation/workspace.ts) and its runner share it with the CLI's own copy.
 * An instrumented file registers itself when it is evaluated (its prologue);
 * a campaign reads and clears the counters of its own copy after each run.
 */
import type { BranchSite } from './transform.ts';

export interface CoveredFile {
  readonly url: string;
  /** Index of the file's first counter in CoverageRegistry.hits. */
  readonly base: number;
  readonly sites: readonly BranchSite[];
  readonly functions: readonly string[];
}

const CAPACITY = 1 << 16;

export class CoverageRegistry {
  readonly hits = new Uint32Array(CAPACITY);
  readonly files: CoveredFile[] = [];
  used = 0;

  /** Called by an instrumented module's prologue: its counters, a view of `hits`. */
  register(url: string, sitesJson: string, functions: readonly string[]): Uint32Array {
    const sites = (JSON.parse(sitesJson) as number[][]).map(([line, endLine, fn, kind]) => ({ line: line!, endLine: endLine!, fn: fn!, kind: KINDS[kind!]! }));
    const base = this.used;
    if (base + sites.length > CAPACITY) return new Uint32Array(sites.length); // beyond capacity: not counted
    this.used += sites.length;
    this.files.push({ url, base, sites, functions });
    return this.hits.subarray(base, base + sites.length);
  }

  /** The files whose URL starts with `root` (one copy of the model), as a counter range. */
  filesUnder(root: string): CoveredFile[] {
    return this.files.filter((f) => f.url.startsWith(root));
  }
}

/** Site kinds, by the number the prologue stores (see prologue()). */
export const KINDS = ['function', 'then', 'else', 'implicit-else', 'case', 'loop', 'catch', 'cond-true', 'cond-false', 'logical'] as const;

const KEY = '__mmfuzzCoverage';

/** This thread's registry (created on first use). */
export function coverageRegistry(): CoverageRegistry {
  const g = globalThis as unknown as Record<string, CoverageRegistry | undefined>;
  return (g[KEY] ??= new CoverageRegistry());
}

/** The prologue an instrumented file starts with (one line: no line of the file moves); it names no path, so copies share a cache entry. */
export function prologue(sites: readonly BranchSite[], functions: readonly string[]): string {
  const data = JSON.stringify(sites.map((s) => [s.line, s.endLine, s.fn, KINDS.indexOf(s.kind as (typeof KINDS)[number])]));
  return `const __mmcov = globalThis.${KEY}?.register(import.meta.url, ${JSON.stringify(data)}, ${JSON.stringify(functions)}) ?? new Uint32Array(${sites.length});`;
}
