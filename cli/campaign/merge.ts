import { reproSize } from '../../corpus/entry.ts';
import type { Failure, FuzzResult } from '../../runner/index.ts';
import { combineCoverage, combineReach } from '../../runner/coverage/combine.ts';
import type { Found } from './messages.ts';

/** Per bug the smaller repro; on a tie the earlier run, which is what one worker would have reported. */
function better(a: Failure, b: Failure): boolean {
  const [sa, sb] = [reproSize(a.repro), reproSize(b.repro)];
  return sa < sb || (sa === sb && a.run < b.run);
}

/** The failures of several workers (or shards), one per signature. */
export class FoundSet {
  private readonly bySignature = new Map<string, Found>();

  /** 'new' for a new bug, 'smaller' for a better repro of a known one, undefined when it changes nothing. */
  add(found: Found): 'new' | 'smaller' | undefined {
    const had = this.bySignature.get(found.failure.signature);
    if (had && !better(found.failure, had.failure)) return undefined;
    this.bySignature.set(found.failure.signature, found);
    return had ? 'smaller' : 'new';
  }

  get size(): number {
    return this.bySignature.size;
  }

  /** In run order: the same order whatever the threads' timing was. */
  list(): Found[] {
    return [...this.bySignature.values()].sort((a, b) => a.failure.run - b.failure.run);
  }
}

/**
 * The workers' results as one campaign's: runs and steps add up, the time is
 * the longest worker's (they ran side by side), so execs/s is the machine's.
 */
export function combineResults(seed: number, results: readonly FuzzResult[], found: readonly Found[]): FuzzResult {
  const runs = results.reduce((n, r) => n + r.runs, 0);
  const ms = Math.max(0, ...results.map((r) => r.elapsedMs));
  return {
    seed,
    runs,
    steps: results.reduce((n, r) => n + r.steps, 0),
    elapsedMs: ms,
    execsPerSec: ms > 0 ? runs / (ms / 1000) : 0,
    violations: found.map((f) => f.failure),
    interrupted: results.some((r) => r.interrupted),
    campaign: results[0]?.campaign,
    coverage: combineCoverage(results.map((r) => r.coverage)),
    reach: combineReach(results.map((r) => r.reach)),
    queue: results.some((r) => r.queue) ? results.flatMap((r) => r.queue ?? []) : undefined,
  };
}
