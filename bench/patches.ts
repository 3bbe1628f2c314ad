// Time to detection of each known-bad patch (mutation/patches/*.patch, and
// pending/ with BENCH_PENDING=1): runs and seconds until the first violation, median and max over
// N campaign seeds, random walk vs PCT, each campaign capped by a budget.
// Each patch's campaigns run in one Workspace (a patched temp copy).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectsProperty, parsePatchHeader } from '../mutation/header.ts';
import { PATCHES_DIR } from '../mutation/known-bad.ts';
import { Workspace } from '../mutation/workspace.ts';
import type { ProgramArbOptions } from '../generators/index.ts';
import { loadavg } from './util.ts';
import { summarize, type PatchKindSummary, type PatchRun } from './patch-summary.ts';

export type { PatchKindSummary, PatchRun } from './patch-summary.ts';

type Runner = typeof import('../runner/index.ts');
/**
 * `guided`: the default campaign (coverage-guided and patch-directed, the default schedule mix);
 * `mix`: the plain random campaign with the default mix (random, pct, pb);
 * `random`, `pct`, `pb`: the plain random campaign with one schedule kind.
 */
export type Kind = 'guided' | 'mix' | 'random' | 'pct' | 'pb';

export const KINDS: readonly Kind[] = ['guided', 'mix', 'random', 'pct', 'pb'];

export interface PatchResult {
  readonly name: string;
  readonly expect: string;
  readonly fuzzSeed: number;
  readonly program?: unknown;
  readonly kinds: readonly PatchKindSummary[];
}

/** The catalogue (mutation/patches/*.patch); with `pending`, mutation/patches/pending/ after it. */
export function knownBadPatches(pending = false): string[] {
  const dir = (d: string): string[] =>
    readdirSync(d)
      .filter((n) => n.endsWith('.patch'))
      .sort()
      .map((n) => join(d, n));
  return [...dir(PATCHES_DIR), ...(pending ? dir(join(PATCHES_DIR, 'pending')) : [])];
}

export interface PatchBenchOptions {
  readonly seeds: number;
  readonly budgetMs: number;
  /** Also cap each campaign at this many runs (0: no cap): on a loaded machine runs, not seconds, compare campaigns. */
  readonly budgetRuns?: number;
  /** Stop starting campaigns after this many seconds of the section (0: no limit); what was not run is reported as such. */
  readonly sectionSeconds?: number;
  readonly kinds?: readonly Kind[];
  readonly files?: readonly string[];
  /** Ignore the patches' Program: and Fuzz-Seed: headers: the default campaign on seeds 0.., as a user without a header runs it. */
  readonly ignoreHeaders?: boolean;
  /** The first seed (added to a header's Fuzz-Seed): seeds seedBase.. (BENCH_SEED_BASE), so that another machine or session can take the next seeds. */
  readonly seedBase?: number;
  readonly progress?: (t: string) => void;
}

interface Loaded {
  readonly name: string;
  readonly expect: string;
  readonly fuzzSeed: number;
  readonly program?: ProgramArbOptions;
  /** The diff: the guided campaign is patch-directed, as check-patches and `fuzz --patch` run it. */
  readonly text: string;
  readonly ws: Workspace;
  readonly runner: Runner;
  readonly runs: Map<Kind, PatchRun[]>;
}

function campaign(p: Loaded, kind: Kind, seed: number, budgetMs: number, budgetRuns: number): PatchRun {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let foundAt = 0;
  let cpuAt = 0;
  const r = p.runner.fuzz({
    timeMs: budgetMs,
    ...(budgetRuns > 0 ? { runs: budgetRuns } : {}),
    seed,
    program: p.program,
    campaign: kind === 'guided' ? 'guided' : 'random',
    ...(kind === 'guided' ? { patch: p.text } : {}),
    schedule: kind === 'mix' || kind === 'guided' ? {} : { kinds: [kind] },
    continueOnFailure: false,
    onFailure: () => {
      foundAt = performance.now();
      const c = process.cpuUsage(c0);
      cpuAt = (c.user + c.system) / 1e6;
    },
  });
  const f = r.violations[0];
  if (!f) {
    const c = process.cpuUsage(c0);
    return { seed, caught: false, runs: r.runs, seconds: r.elapsedMs / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
  }
  // Detection is the end of the failing run: shrinking (and the two replays after it, which are short) is not part of it.
  const shrinkS = f.shrink.ms / 1000;
  return {
    seed,
    caught: expectsProperty(p.expect, f.property),
    property: f.property,
    runs: r.runs,
    seconds: Math.max(0, (foundAt - t0) / 1000 - shrinkS),
    cpuSeconds: Math.max(0, cpuAt - shrinkS),
    shrink: { ...f.shrink },
  };
}

/**
 * Seeds round-robin over patches and kinds (seed k of every patch before
 * seed k+1 of any), so a section cap cuts every patch at the same depth.
 * Each patch gets one Workspace, created up front and kept for all its campaigns.
 */
export async function benchPatches(o: PatchBenchOptions): Promise<PatchResult[]> {
  const kinds = o.kinds ?? (['guided', 'mix', 'random', 'pct', 'pb'] as const);
  const loaded: Loaded[] = [];
  try {
    for (const file of o.files ?? knownBadPatches()) {
      const name = file.split('/').pop()!;
      const text = readFileSync(file, 'utf8');
      const h = parsePatchHeader(text, name);
      const ws = Workspace.create(text, name);
      const [fuzzSeed, program] = o.ignoreHeaders ? [o.seedBase ?? 0, undefined] : [h.fuzzSeed + (o.seedBase ?? 0), h.program];
      loaded.push({ name, expect: h.expect, fuzzSeed, program, text, ws, runner: await ws.import<Runner>('runner/index.ts'), runs: new Map(kinds.map((k) => [k, []])) });
    }
    const t0 = performance.now();
    const deadline = o.sectionSeconds ? t0 + o.sectionSeconds * 1000 : Infinity;
    outer: for (let k = 0; k < o.seeds; k++) {
      for (const p of loaded) {
        for (const kind of kinds) {
          if (performance.now() >= deadline) {
            o.progress?.(`bench: patches: section cap of ${o.sectionSeconds} s reached after ${k} full seed round(s)`);
            break outer;
          }
          const r = campaign(p, kind, p.fuzzSeed + k, o.budgetMs, o.budgetRuns ?? 0);
          p.runs.get(kind)!.push(r);
          o.progress?.(`bench: ${p.name} ${kind} seed ${r.seed}: ${r.property ?? 'miss'} after ${r.runs} runs, ${r.seconds.toFixed(2)} s (load ${loadavg().load1})`);
        }
      }
    }
    return loaded.map((p) => ({ name: p.name, expect: p.expect, fuzzSeed: p.fuzzSeed, program: p.program, kinds: kinds.map((k) => summarize(k, p.runs.get(k)!)) }));
  } finally {
    for (const p of loaded) p.ws.dispose();
  }
}
