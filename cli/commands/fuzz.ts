import { existsSync, readFileSync } from 'node:fs';
import { entryFromFailure } from '../../corpus/entry.ts';
import { engineHash } from '../../corpus/engine-hash.ts';
import { shown } from '../../corpus/errors.ts';
import { patchName } from '../../corpus/patch-path.ts';
import { ensureCorpusDir, listEntries, saveEntry, type SaveOutcome } from '../../corpus/store.ts';
import { PROJECT_ROOT, Workspace } from '../../mutation/workspace.ts';
import { selectProperties } from '../../properties/index.ts';
import type { FuzzResult } from '../../runner/index.ts';
import { Campaign } from '../campaign/run.ts';
import { UsageError } from '../errors.ts';
import { println, type Io } from '../io.ts';
import type { Shard } from '../parse.ts';
import { startProgress } from '../progress.ts';
import { onInterrupt } from '../signals.ts';
import { fuzzSummaryJson, fuzzSummaryText } from './fuzz-summary.ts';

export interface FuzzFlags {
  readonly runs?: number;
  readonly time?: number;
  readonly seed?: number;
  readonly properties?: string;
  readonly corpus?: string;
  readonly json?: boolean;
  readonly workers?: number;
  readonly shard?: Shard;
  readonly patch?: string;
}

function openPatch(file: string): Workspace {
  if (!existsSync(file)) throw new UsageError(`patch file ${file} not found; give the path of a unified diff against this tree`);
  return Workspace.create(readFileSync(file, 'utf8'), file);
}

/** `mmfuzz fuzz`: 0 no violation, 1 violations (reported, and saved with --corpus). */
export async function fuzzCommand(flags: FuzzFlags, io: Io): Promise<number> {
  if ((flags.workers ?? 1) > 1) {
    throw new UsageError(`--workers ${flags.workers}: worker threads are not implemented yet; use --workers 1, or start N processes with --shard 1/N ... N/N`);
  }
  // Bad input fails now, not after a ten-hour campaign.
  const properties = flags.properties === undefined ? undefined : selectProperties(flags.properties).map((p) => p.name);
  if (flags.corpus !== undefined) {
    ensureCorpusDir(flags.corpus);
    listEntries(flags.corpus);
  }
  const ws = flags.patch === undefined ? undefined : openPatch(flags.patch);
  try {
    const root = ws?.root ?? PROJECT_ROOT;
    const engine = engineHash(root);
    const patch = flags.patch === undefined ? undefined : patchName(flags.patch);
    const saved = new Map<string, SaveOutcome>();
    const progress = startProgress(io.stdout);
    const campaign = new Campaign(root, { runs: flags.runs, timeMs: flags.time, seed: flags.seed ?? 0, shard: flags.shard, properties }, {
      onProgress: (p) => progress.update(p),
      onFailure: (f, report) => {
        progress.log(`${report}\n`);
        if (flags.corpus === undefined) return;
        const s = saveEntry(flags.corpus, entryFromFailure(f, engine, patch));
        saved.set(f.signature, s);
        progress.log(`${s.action === 'kept' ? 'already in the corpus as' : s.action === 'added' ? 'saved' : 'saved (a smaller repro)'} ${shown(s.file)}\n`);
      },
    });
    const release = onInterrupt(
      () => {
        campaign.stop();
        println(io.stderr, 'mmfuzz: stopping after the current run (again to abort)');
      },
      () => campaign.abort(),
    );
    let result: FuzzResult;
    try {
      result = await campaign.done;
    } finally {
      release();
      progress.stop();
    }
    const summary = { result, engine, patch, shard: flags.shard, saved };
    println(io.stdout, flags.json ? JSON.stringify(fuzzSummaryJson(summary)) : fuzzSummaryText(summary));
    return result.violations.length > 0 ? 1 : 0;
  } finally {
    ws?.dispose();
  }
}
