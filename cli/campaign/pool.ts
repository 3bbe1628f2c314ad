import type { FuzzProgress, FuzzResult } from '../../runner/index.ts';
import { AbortedError } from '../errors.ts';
import type { Shard } from '../parse.ts';
import { combineResults, FoundSet } from './merge.ts';
import type { CampaignRequest, Found } from './messages.ts';
import { planWorkers } from './partition.ts';
import { Campaign } from './run.ts';

/** How long stop() lets a worker finish its run (or shrink) before cutting it short: a signal must end the campaign within a second. */
export const STOP_GRACE_MS = 600;

export interface PoolOptions {
  readonly root: string;
  readonly fuzz: Omit<CampaignRequest['fuzz'], 'shard' | 'runs'>;
  /** The campaign's size, over all shards and workers; undefined with --time. */
  readonly runs?: number;
  readonly shard: Shard;
  readonly workers: number;
}

export interface PoolHandlers {
  onProgress?(p: FuzzProgress): void;
  /** A new bug, or a smaller repro of one already reported. */
  onFailure?(found: Found, kind: 'new' | 'smaller'): void;
}

export interface PoolResult {
  readonly result: FuzzResult;
  /** One per signature, in run order, with their reports. */
  readonly found: readonly Found[];
  readonly workers: number;
  /** Workers ended in the middle of a run or shrink by a stop. */
  readonly cutShort: number;
}

/**
 * A campaign over worker threads, each a deterministic stream of its own runs
 * (see planWorkers), merged into one: one progress line, one failure per bug.
 */
export class CampaignPool {
  readonly done: Promise<PoolResult>;
  private readonly campaigns: Campaign[];
  private grace: NodeJS.Timeout | undefined;

  constructor(o: PoolOptions, handlers: PoolHandlers = {}) {
    const plans = planWorkers(o.shard, o.workers, o.runs);
    const found = new FoundSet();
    const progress = plans.map((): FuzzProgress => ({ runs: 0, violations: 0, elapsedMs: 0, execsPerSec: 0 }));
    const report = (): void => {
      const runs = progress.reduce((n, p) => n + p.runs, 0);
      const ms = Math.max(...progress.map((p) => p.elapsedMs));
      handlers.onProgress?.({ runs, violations: found.size, elapsedMs: ms, execsPerSec: ms > 0 ? runs / (ms / 1000) : 0 });
    };
    this.campaigns = plans.map(
      (plan, w) =>
        new Campaign(o.root, { ...o.fuzz, shard: plan.shard, runs: plan.runs }, {
          onProgress: (p) => {
            progress[w] = p;
            report();
          },
          onFailure: (f) => {
            const kind = found.add(f);
            if (kind) handlers.onFailure?.(f, kind);
          },
        }),
    );
    this.done = Promise.all(this.campaigns.map((c) => c.done))
      .then((results) => ({
        result: combineResults(o.fuzz.seed ?? 0, results, found.list()),
        found: found.list(),
        workers: plans.length,
        cutShort: results.filter((r) => r.cutShort).length,
      }))
      .catch((e: unknown) => {
        // One worker failed (or was aborted): end the others, and count what all of them found.
        for (const c of this.campaigns) c.abort();
        throw e instanceof AbortedError ? new AbortedError(found.size) : e;
      })
      .finally(() => clearTimeout(this.grace));
  }

  stop(): void {
    for (const c of this.campaigns) c.stop();
    this.grace ??= setTimeout(() => {
      for (const c of this.campaigns) c.cutShort();
    }, STOP_GRACE_MS);
  }

  abort(): void {
    for (const c of this.campaigns) c.abort();
  }
}
