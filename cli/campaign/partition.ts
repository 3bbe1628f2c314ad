import type { Shard } from '../parse.ts';

/** What one worker thread runs: fuzz()'s shard option and its run limit. */
export interface WorkerPlan {
  readonly shard: Shard;
  /** undefined: no limit (a --time campaign). */
  readonly runs?: number;
}

/**
 * Split a campaign over workers. The campaign is the run indices 0..runs-1
 * (every index without --runs); shard i/N keeps those ≡ i-1 mod N, and
 * worker w of W keeps every W-th of those: i ≡ (i-1) + w·N mod N·W. So the
 * shards of all machines and the workers of each one cover every run once,
 * and a campaign gives the same runs whatever N and W are.
 * Workers left with no run are dropped.
 */
export function planWorkers(shard: Shard, workers: number, runs: number | undefined): WorkerPlan[] {
  const count = shard.count * workers;
  const plans: WorkerPlan[] = [];
  for (let w = 0; w < workers; w++) {
    const index = shard.index + w * shard.count;
    // Indices index, index+count, ... below runs.
    const mine = runs === undefined ? undefined : Math.max(0, Math.ceil((runs - index) / count));
    if (mine !== 0) plans.push({ shard: { index, count }, runs: mine });
  }
  return plans;
}
