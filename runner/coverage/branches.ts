/**
 * A run's branch coverage of one copy of the model: the counters of its
 * instrumented files (registry.ts), read and cleared after each run.
 */
import { coverageRegistry, type CoveredFile } from './registry.ts';
import { bucket, feature, FeatureKind } from './features.ts';

export class BranchProbe {
  private files: CoveredFile[] = [];
  /** The range of the registry's counters this copy's files hold. */
  lo = 0;
  hi = 0;

  /** root: the file URL of the model copy's tree (this checkout or a patched copy), ending in '/'. */
  constructor(readonly root: string) {
    this.refresh();
  }

  /** Pick up files registered since (the model loads lazily in some entry points). */
  refresh(): void {
    this.files = coverageRegistry().filesUnder(this.root);
    this.lo = this.files.length ? Math.min(...this.files.map((f) => f.base)) : 0;
    this.hi = this.files.length ? Math.max(...this.files.map((f) => f.base + f.sites.length)) : 0;
  }

  /** Counters in the range (BranchProbe numbering: 0 .. size-1). */
  get size(): number {
    return this.hi - this.lo;
  }

  get coveredFiles(): readonly CoveredFile[] {
    return this.files;
  }

  /** Zero the counters (before a run: shrinking and replays between runs count too). */
  clear(): void {
    coverageRegistry().hits.fill(0, this.lo, this.hi);
  }

  /** Append the run's branch features to `out`; `seen`, if given, gets each counter that ran. */
  collect(out: number[], seen?: (site: number) => void): void {
    const hits = coverageRegistry().hits;
    for (let i = this.lo; i < this.hi; i++) {
      const n = hits[i]!;
      if (n === 0) continue;
      out.push(feature(FeatureKind.Branch, i - this.lo, bucket(n)));
      seen?.(i - this.lo);
    }
  }
}
