import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { engineHash } from '../../project/engine-hash.ts';
import { patchName } from '../../corpus/patch-path.ts';
import { ensureCorpusDir, listEntries, type SaveOutcome } from '../../corpus/store.ts';
import { PROJECT_ROOT } from '../../project/root.ts';
import { Workspace } from '../../project/workspace.ts';
import { propertyNames, selectProperties } from '../../properties/index.ts';
import type { ProgramArbOptions } from '../../generators/index.ts';
import { CampaignPool, STOP_GRACE_MS, type PoolResult } from '../campaign/pool.ts';
import { UsageError } from '../errors.ts';
import { println, type Io } from '../io.ts';
import type { Shard } from '../parse.ts';
import { startProgress } from '../progress.ts';
import { onInterrupt } from '../signals.ts';
import { warnOn } from './corpus.ts';
import { prepareOutputs, writeOutputs, type OutputFlags } from './fuzz-outputs.ts';
import { DEFAULT_OUT, failureHandler } from './fuzz-save.ts';
import { fuzzSummaryJson, fuzzSummaryText } from './fuzz-summary.ts';
import { afterCampaign, campaignOptions } from './fuzz-guided.ts';

export interface FuzzFlags extends OutputFlags {
  readonly runs?: number;
  readonly time?: number;
  readonly seed?: number;
  readonly properties?: string;
  readonly corpus?: string;
  readonly json?: boolean;
  readonly workers?: number;
  readonly shard?: Shard;
  readonly patch?: string;
  readonly program?: ProgramArbOptions;
  readonly random?: boolean;
  /** --run N: only run N of the campaign (with its --seed). */
  readonly run?: number;
  /** Stop at the first failure (default with --patch: a patch check wants a yes or no). */
  readonly stopOnFailure?: boolean;
}

const UNSHARDED: Shard = { index: 0, count: 1 };

/** Which runs: all of --runs (or --time) over the shard and workers, or just --run N on one worker. */
function campaignPlan(flags: FuzzFlags): { runs?: number; shard: Shard; workers: number } {
  // Run N alone: the shard N of N+1 of a campaign of N+1 runs.
  if (flags.run !== undefined) return { runs: flags.run + 1, shard: { index: flags.run, count: flags.run + 1 }, workers: 1 };
  return { runs: flags.runs ?? (flags.time === undefined ? 1000 : undefined), shard: flags.shard ?? UNSHARDED, workers: flags.workers ?? availableParallelism() };
}

/** The patched copy, loaded once here: a patch that does not compile is bad input now, not an error in every worker. */
async function openPatch(file: string): Promise<Workspace> {
  if (!existsSync(file)) throw new UsageError(`patch file ${file} not found; give the path of a unified diff against this tree`);
  const ws = Workspace.create(readFileSync(file, 'utf8'), file);
  try {
    await ws.import('runner/index.ts');
  } catch (e) {
    ws.dispose();
    throw e;
  }
  return ws;
}

/** `mmfuzz fuzz`: 0 no violation, 1 violations (reported, and saved with --corpus). */
export async function fuzzCommand(flags: FuzzFlags, io: Io): Promise<number> {
  // Bad input fails now, not after a ten-hour campaign.
  const selected = flags.properties === undefined ? undefined : selectProperties(flags.properties).map((p) => p.name);
  const dir = flags.corpus ?? DEFAULT_OUT;
  ensureCorpusDir(dir);
  listEntries(dir, warnOn(io));
  prepareOutputs(flags);
  const ws = flags.patch === undefined ? undefined : await openPatch(flags.patch);
  try {
    const root = ws?.root ?? PROJECT_ROOT;
    const engine = engineHash(root);
    const patch = flags.patch === undefined ? undefined : patchName(flags.patch);
    const saved = new Map<string, SaveOutcome>();
    const plan = campaignPlan(flags);
    const stop = flags.stopOnFailure ?? flags.patch !== undefined;
    const progress = startProgress(io, { runs: plan.runs === undefined ? undefined : Math.ceil(plan.runs / plan.shard.count), timeMs: flags.time });
    const onFailure = failureHandler({ dir, engine, patch, checks: selected ?? propertyNames, saved }, progress);
    const pool = new CampaignPool(
      { root, fuzz: { timeMs: flags.time, seed: flags.seed ?? 0, properties: selected, program: flags.program, continueOnFailure: !stop, ...campaignOptions(flags) }, ...plan },
      {
        onProgress: (p) => progress.update(p),
        onFailure: (found, kind) => {
          onFailure(found, kind);
          if (stop) pool.stop();
        },
      },
    );
    const release = onInterrupt(
      () => {
        pool.stop();
        println(io.stderr, `mmfuzz: stopping after the current run, within ${(STOP_GRACE_MS / 1000).toFixed(1)} s (again to abort)`);
      },
      () => pool.abort(),
    );
    let done: PoolResult;
    try {
      done = await pool.done;
    } finally {
      release();
      progress.stop();
    }
    const summary = { result: done.result, engine, patch, shard: flags.shard, program: flags.program, saved, workers: done.workers, cutShort: done.cutShort, stopOnFailure: stop };
    println(io.stdout, flags.json ? JSON.stringify(fuzzSummaryJson(summary)) : fuzzSummaryText(summary));
    afterCampaign(flags, done.result, io);
    // After the summary: a file that cannot be written must not hide what was found.
    writeOutputs(flags, summary, done.found, selected ?? propertyNames);
    return done.result.violations.length > 0 ? 1 : 0;
  } finally {
    ws?.dispose();
  }
}
