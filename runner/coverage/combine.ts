/**
 * Several workers' coverage figures and patch reach as one campaign's. Runs
 * add up; branches reached and interleavings are each worker's own, so the
 * campaign's is at least the largest (a lower bound: workers do not share
 * their sets); a changed function's op kinds are the union.
 */
import type { CoverageSummary } from '../guided-campaign.ts';
import type { PatchReach } from './reach.ts';

export function combineCoverage(cs: readonly (CoverageSummary | undefined)[]): CoverageSummary | undefined {
  const xs = cs.filter((c): c is CoverageSummary => c !== undefined);
  if (xs.length === 0) return undefined;
  const sum = (f: (c: CoverageSummary) => number): number => xs.reduce((n, c) => n + f(c), 0);
  const max = (f: (c: CoverageSummary) => number): number => Math.max(...xs.map(f));
  return {
    branchSites: max((c) => c.branchSites),
    branchesReached: max((c) => c.branchesReached),
    features: max((c) => c.features),
    queue: sum((c) => c.queue),
    mutants: sum((c) => c.mutants),
    mutantsKept: sum((c) => c.mutantsKept),
    level: max((c) => c.level),
    replayed: sum((c) => c.replayed),
  };
}

export function combineReach(rs: readonly (PatchReach | undefined)[]): PatchReach | undefined {
  const xs = rs.filter((r): r is PatchReach => r !== undefined);
  if (xs.length === 0) return undefined;
  const first = xs[0]!;
  return {
    ...first,
    sitesReached: Math.max(...xs.map((r) => r.sitesReached)),
    runs: xs.reduce((n, r) => n + r.runs, 0),
    interleavings: Math.max(...xs.map((r) => r.interleavings)),
    functions: first.functions.map((f, i) => ({
      name: f.name,
      runs: xs.reduce((n, r) => n + (r.functions[i]?.runs ?? 0), 0),
      opKinds: [...new Set(xs.flatMap((r) => r.functions[i]?.opKinds ?? []))],
    })),
  };
}
