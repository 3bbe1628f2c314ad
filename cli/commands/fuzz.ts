import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { entryFromFailure } from '../../corpus/entry.ts';
import { engineHash } from '../../corpus/engine-hash.ts';
import { shown } from '../../corpus/errors.ts';
import { patchName } from '../../corpus/patch-path.ts';
import { ensureCorpusDir, listEntries, saveEntry, type SaveOutcome } from '../../corpus/store.ts';
import { PROJECT_ROOT, Workspace } from '../../mutation/workspace.ts';
import { propertyNames, selectProperties } from '../../properties/index.ts';
import type { ProgramArbOptions } from '../../generators/index.ts';
import type { Found } from '../campaign/messages.ts';
import { CampaignPool, STOP_GRACE_MS, type PoolResult } from '../campaign/pool.ts';
import { UsageError } from '../errors.ts';
import { println, type Io } from '../io.ts';
import type { Shard } from '../parse.ts';
import { startProgress, type Progress } from '../progress.ts';
import { onInterrupt } from '../signals.ts';
import { prepareOutputs, writeOutputs, type OutputFlags } from './fuzz-outputs.ts';
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
}

const UNSHARDED: Shard = { index: 0, count: 1 };

function openPatch(file: string): Workspace {
  if (!existsSync(file)) throw new UsageError(`patch file ${file} not found; give the path of a unified diff against this tree`);
  return Workspace.create(readFileSync(file, 'utf8'), file);
}

/** Print a failure as it arrives and save it; a smaller repro of a known bug replaces it in the corpus. */
function failureHandler(flags: FuzzFlags, progress: Progress, saved: Map<string, SaveOutcome>, engine: string, patch: string | undefined) {
  return (found: Found, kind: 'new' | 'smaller'): void => {
    const f = found.failure;
    if (kind === 'new') progress.log(`${found.report}\n`);
    else progress.log(`a smaller repro of ${f.property} (${f.shrink.ops} ops / ${f.shrink.switches} switches), found by run ${f.run}`);
    if (flags.corpus === undefined) return;
    const s = saveEntry(flags.corpus, entryFromFailure(f, engine, patch));
    saved.set(f.signature, s);
    progress.log(`${s.action === 'kept' ? 'already in the corpus as' : s.action === 'added' ? 'saved' : 'saved (a smaller repro)'} ${shown(s.file)}\n`);
  };
}

/** `mmfuzz fuzz`: 0 no violation, 1 violations (reported, and saved with --corpus). */
export async function fuzzCommand(flags: FuzzFlags, io: Io): Promise<number> {
  // Bad input fails now, not after a ten-hour campaign.
  const selected = flags.properties === undefined ? undefined : selectProperties(flags.properties).map((p) => p.name);
  if (flags.corpus !== undefined) {
    ensureCorpusDir(flags.corpus);
    listEntries(flags.corpus);
  }
  prepareOutputs(flags);
  const ws = flags.patch === undefined ? undefined : openPatch(flags.patch);
  try {
    const root = ws?.root ?? PROJECT_ROOT;
    const engine = engineHash(root);
    const patch = flags.patch === undefined ? undefined : patchName(flags.patch);
    const saved = new Map<string, SaveOutcome>();
    const progress = startProgress(io.stdout);
    const pool = new CampaignPool(
      {
        root,
        fuzz: {
          timeMs: flags.time,
          seed: flags.seed ?? 0,
          properties: selected,
          program: flags.program,
          ...campaignOptions(flags),
        },
        runs: flags.runs ?? (flags.time === undefined ? 1000 : undefined),
        shard: flags.shard ?? UNSHARDED,
        workers: flags.workers ?? availableParallelism(),
      },
      { onProgress: (p) => progress.update(p), onFailure: failureHandler(flags, progress, saved, engine, patch) },
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
    const summary = { result: done.result, engine, patch, shard: flags.shard, program: flags.program, saved, workers: done.workers, cutShort: done.cutShort };
    println(io.stdout, flags.json ? JSON.stringify(fuzzSummaryJson(summary)) : fuzzSummaryText(summary));
    afterCampaign(flags, done.result, io);
    // After the summary: a file that cannot be written must not hide what was found.
    writeOutputs(flags, summary, done.found, selected ?? propertyNames);
    return done.result.violations.length > 0 ? 1 : 0;
  } finally {
    ws?.dispose();
  }
}
