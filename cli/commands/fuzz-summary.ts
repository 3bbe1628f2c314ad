import { shown } from '../../corpus/errors.ts';
import type { SaveOutcome } from '../../corpus/store.ts';
import type { ProgramArbOptions } from '../../generators/index.ts';
import type { FuzzResult } from '../../runner/index.ts';
import { formatShard, type Shard } from '../parse.ts';
import { reproduceCommand } from './fuzz-save.ts';

export interface FuzzSummary {
  readonly result: FuzzResult;
  readonly engine: string;
  readonly patch?: string;
  readonly shard?: Shard;
  /** --program: the generator options, when the campaign was focused. */
  readonly program?: ProgramArbOptions;
  /** Saved files by signature (--corpus, or ./mmfuzz-out/).) */
  readonly saved: ReadonlyMap<string, SaveOutcome>;
  /** Worker threads that ran; cutShort of them were ended mid-run by a signal. */
  readonly workers: number;
  readonly cutShort: number;
  /** The campaign stopped at its first failure (--stop-on-failure, the default with --patch). */
  readonly stopOnFailure?: boolean;
}

/**
 * The --json line (and --summary). Everything but elapsedMs, execsPerSec and
 * shrink.ms is a function of the command line (with --runs, whatever the
 * number of workers: see planWorkers), so two runs of one seed can be compared.
 */
export function fuzzSummaryJson(s: FuzzSummary) {
  const r = s.result;
  return {
    seed: r.seed,
    shard: s.shard && formatShard(s.shard),
    patch: s.patch,
    program: s.program,
    engine: s.engine,
    workers: s.workers,
    runs: r.runs,
    steps: r.steps,
    elapsedMs: Math.round(r.elapsedMs),
    execsPerSec: Math.round(r.execsPerSec),
    interrupted: r.interrupted,
    campaign: r.campaign,
    coverage: r.coverage,
    reach: r.reach,
    violations: r.violations.map((f) => ({
      property: f.property,
      message: f.message,
      signature: f.signature,
      run: f.run,
      repro: f.repro,
      shrink: f.shrink,
      file: s.saved.has(f.signature) ? shown(s.saved.get(f.signature)!.file) : undefined,
    })),
  };
}

export function fuzzSummaryText(s: FuzzSummary): string {
  const r = s.result;
  const where = [`seed ${r.seed}`, s.shard && `shard ${formatShard(s.shard)}`, s.patch && `patch ${s.patch}`, s.program && `program ${JSON.stringify(s.program)}`, `${s.workers} worker${s.workers === 1 ? '' : 's'}`].filter(Boolean).join(', ');
  const found = r.violations.length === 0 ? 'no violation' : `${r.violations.length} violation(s): ${[...new Set(r.violations.map((f) => f.property))].join(', ')}`;
  const lines = [`fuzz: ${r.runs} runs in ${(r.elapsedMs / 1000).toFixed(1)} s (${Math.round(r.execsPerSec)} execs/s), ${where}: ${found}`];
  if (s.stopOnFailure && r.violations.length > 0) lines.push('stopped at the first failure (--stop-on-failure; the default with --patch)');
  else if (r.interrupted) lines.push('stopped early by a signal; what was found is above, and saved');
  if (s.cutShort > 0) lines.push(`${s.cutShort} worker(s) were cut short in the middle of a run or shrink: that run is not counted, and their steps are not in the total`);
  for (const f of r.violations) {
    const file = s.saved.get(f.signature)?.file;
    if (file) lines.push(`${f.property}: reproduce with ${reproduceCommand(file)}`);
  }
  return lines.join('\n');
}
