import type { ProgramArbOptions, ScheduleArbOptions } from '../generators/index.ts';
import { makeStrategy } from '../generators/index.ts';
import { properties as allProperties, selectProperties, type Property } from '../properties/index.ts';
import { runCase, selectedViolation, type CaseOptions } from './case.ts';
import { GuidedCampaign, type CoverageSummary } from './guided-campaign.ts';
import type { PatchReach } from './coverage/reach.ts';
import { caseArb, generateCase, type CaseInput } from './seeds.ts';
import { shrink } from './shrink.ts';
import { signatureOf } from './signature.ts';
import type { Failure } from './types.ts';
import { replayTwice } from './verify.ts';

export interface FuzzOptions {
  /** Stop after this many runs (default 1000 when no time is given). */
  readonly runs?: number;
  /** Stop after this many milliseconds. */
  readonly timeMs?: number;
  readonly seed?: number;
  /** Property names, or Property objects (default: all). */
  readonly properties?: readonly (string | Property)[];
  readonly program?: ProgramArbOptions;
  readonly schedule?: ScheduleArbOptions;
  readonly maxSteps?: number;
  /** Run only the runs i with i % count === index (for --shard). */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Keep going after a violation (default true: a nightly campaign collects them all). */
  readonly continueOnFailure?: boolean;
  /** Called about every 100 ms with the campaign so far. */
  readonly onProgress?: (p: FuzzProgress) => void;
  readonly onFailure?: (f: Failure) => void;
  /** Polled between runs: true stops the campaign (SIGINT). */
  readonly shouldStop?: () => boolean;
  /** 'guided' (default): coverage-guided, a queue of inputs that added coverage, mutated; 'random': every run a fresh draw. */
  readonly campaign?: CampaignKind;
  /** Patch-directed (guided only): the unified diff the model copy was patched with; reach is reported in the result. */
  readonly patch?: string;
  /** Guided only: inputs to replay first (a saved queue); with keepQueue the result carries the queue to save. */
  readonly initialQueue?: readonly CaseInput[];
  readonly keepQueue?: boolean;
}

export type CampaignKind = 'guided' | 'random';
export const CAMPAIGN_KINDS: readonly CampaignKind[] = ['guided', 'random'];

export interface FuzzProgress {
  readonly runs: number;
  readonly violations: number;
  readonly elapsedMs: number;
  readonly execsPerSec: number;
}

export interface FuzzResult {
  readonly seed: number;
  readonly runs: number;
  readonly steps: number;
  readonly elapsedMs: number;
  readonly execsPerSec: number;
  readonly violations: readonly Failure[];
  readonly interrupted: boolean;
  readonly campaign?: CampaignKind;
  /** Guided: the search's own figures. */
  readonly coverage?: CoverageSummary;
  /** Patch-directed: how often the changed code ran. */
  readonly reach?: PatchReach;
  /** With keepQueue: the queue, oldest first. */
  readonly queue?: readonly CaseInput[];
}

function resolveProperties(list: FuzzOptions['properties']): readonly Property[] {
  if (!list) return allProperties;
  return list.flatMap((p) => (typeof p === 'string' ? selectProperties(p) : [p]));
}

/**
 * A campaign: run i draws its program and schedule from its own seed, runs it
 * with the selected properties, and a violation is shrunk to a 1-minimal repro
 * and replayed twice before it is reported. Violations with a signature
 * already reported are counted, not shrunk again.
 */
export function fuzz(options: FuzzOptions = {}): FuzzResult {
  const seed = options.seed ?? 0;
  const props = resolveProperties(options.properties);
  const co: CaseOptions = { properties: props, maxSteps: options.maxSteps };
  const kind = options.campaign ?? 'guided';
  const arb = caseArb(options.program, options.schedule);
  const guided = kind === 'guided' ? new GuidedCampaign(seed, options) : undefined;
  const runsLimit = options.runs ?? (options.timeMs === undefined ? 1000 : Infinity);
  const shard = options.shard ?? { index: 0, count: 1 };
  const t0 = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  const failures: Failure[] = [];
  const seen = new Set<string>();
  let runs = 0;
  let steps = 0;
  let lastProgress = 0;
  let interrupted = false;

  for (let i = shard.index; runs < runsLimit; i += shard.count) {
    if (options.timeMs !== undefined && elapsed() >= options.timeMs) break;
    if (options.shouldStop?.()) {
      interrupted = true;
      break;
    }
    const g = guided?.next(i);
    const input = g?.input ?? generateCase(arb, seed, i);
    const r = guided ? guided.run(input, co) : runCase(input.program, makeStrategy(input.schedule), co);
    runs++;
    steps += r.steps;
    const v = selectedViolation(r, co);
    if (v) {
      const sig = signatureOf(v);
      if (!seen.has(sig)) {
        const s = shrink(input.program, r.schedule, v.property, co);
        replayTwice(s.repro, v.property, co);
        const sig2 = signatureOf(s.violation);
        seen.add(sig).add(sig2);
        const f: Failure = { property: s.violation.property, message: s.violation.message, signature: sig2, seed, run: i, repro: s.repro, shrink: s.stats };
        failures.push(f);
        options.onFailure?.(f);
      }
      if (options.continueOnFailure === false) break;
    }
    if (options.onProgress && elapsed() - lastProgress >= 100) {
      lastProgress = elapsed();
      options.onProgress({ runs, violations: failures.length, elapsedMs: lastProgress, execsPerSec: runs / (lastProgress / 1000) });
    }
  }
  const ms = elapsed();
  return {
    seed,
    runs,
    steps,
    elapsedMs: ms,
    execsPerSec: ms > 0 ? runs / (ms / 1000) : 0,
    violations: failures,
    interrupted,
    campaign: kind,
    ...guided?.results(options.keepQueue ?? false),
  };
}
