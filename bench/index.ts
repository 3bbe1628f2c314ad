// `npm run bench`: prints a table and writes bench/results.json (atomically).
// Every figure carries the load (/proc/loadavg) at the time it was taken, and
// beside wall-clock rates a per-CPU-second rate, which other jobs on the
// machine disturb less. Knobs (env): BENCH_ONLY=toy,campaign,growth,scaling,coverage,patches
// BENCH_COVERAGE_SECONDS (per run of the coverage-cost section, 20), BENCH_COVERAGE_REPEATS (2),
// BENCH_SECONDS (toy, 3), BENCH_MEM_SECONDS (all-properties campaign + RSS, 60),
// BENCH_CAMPAIGN_SECONDS (no-properties campaign, 15), BENCH_GROWTH_SECONDS
// (per cell, 3), BENCH_SCALE_SECONDS (per scaling run, 60), BENCH_SCALE_WARMUP
// (seconds of each scaling run left out of its warm rate, 20), BENCH_SCALE_REPEATS (1), BENCH_SEEDS (10),
// BENCH_BUDGET_S (per patch campaign, 5), BENCH_PATCH_SECONDS (section cap, 240; 0 = none),
// BENCH_KINDS (campaigns of the patch study, comma-separated: guided (the default, coverage-guided), mix,random,pct,pb (the plain
// random campaign with the default schedule mix or one kind); default guided,mix), BENCH_BUDGET_RUNS (also cap each patch campaign at
// this many runs; 0 = none), BENCH_NO_HEADERS=1 (ignore the patches'
// Program: and Fuzz-Seed: headers: seeds 0.., default generator options), BENCH_SEED_BASE (the first seed, 0),
// BENCH_PATCHES (only the patches whose names start with these prefixes, comma-separated: 013,014),
// BENCH_PENDING=1 (mutation/patches/pending/ as well),
// BENCH_OUT (where the JSON goes; default bench/results.json).
// The full run of the docs: BENCH_BUDGET_S=20 BENCH_PATCH_SECONDS=0.
import { writeFileSync, renameSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { campaign, defaultCampaignWithMemory, growth, type CampaignFigure, type GrowthCell, type MemoryFigure } from './campaign.ts';
import { benchEngineToy, type EngineToyResult } from './engine-toy.ts';
import { KINDS, benchPatches, knownBadPatches, type Kind, type PatchResult } from './patches.ts';
import { scaling, type ScalingRow } from './scaling.ts';
import { coverageCost, type CoverageCost } from './coverage.ts';
import { envNum, fmt, loadavg, sectionOn, type Load } from './util.ts';

const started = performance.now();
const startLoad = loadavg();
const log = (t: string): void => void process.stderr.write(`${t}\n`);
const results: {
  node: string;
  date: string;
  cpus: number;
  cpuModel: string;
  loadAtStart: Load;
  loadAtEnd?: Load;
  wallSeconds?: number;
  settings: Record<string, number>;
  engineToy?: EngineToyResult & { load: Load };
  defaultCampaign?: { all: CampaignFigure; none: CampaignFigure; checkingCost: number; floorNsPerStep?: number; propertiesOff: string };
  memory?: MemoryFigure;
  growth?: GrowthCell[];
  scaling?: ScalingRow[];
  patches?: PatchResult[];
  coverageCost?: CoverageCost;
} = {
  node: process.version,
  date: new Date().toISOString(),
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? '',
  loadAtStart: startLoad,
  settings: {
    BENCH_SECONDS: envNum('BENCH_SECONDS', 3),
    BENCH_MEM_SECONDS: envNum('BENCH_MEM_SECONDS', 60),
    BENCH_CAMPAIGN_SECONDS: envNum('BENCH_CAMPAIGN_SECONDS', 15),
    BENCH_GROWTH_SECONDS: envNum('BENCH_GROWTH_SECONDS', 3),
    BENCH_SCALE_SECONDS: envNum('BENCH_SCALE_SECONDS', 60),
    BENCH_SCALE_WARMUP: envNum('BENCH_SCALE_WARMUP', 20),
    BENCH_SCALE_REPEATS: envNum('BENCH_SCALE_REPEATS', 1),
    BENCH_SEEDS: envNum('BENCH_SEEDS', 10),
    BENCH_BUDGET_S: envNum('BENCH_BUDGET_S', 5),
    BENCH_PATCH_SECONDS: envNum('BENCH_PATCH_SECONDS', 240),
    BENCH_COVERAGE_SECONDS: envNum('BENCH_COVERAGE_SECONDS', 20),
    BENCH_COVERAGE_REPEATS: envNum('BENCH_COVERAGE_REPEATS', 2),
  },
};
const S = results.settings;
const rows: [string, string, string][] = [];
const row = (k: string, v: string, load?: Load): void => void rows.push([k, v, load ? `load ${load.load1.toFixed(2)}` : '']);

if (sectionOn('toy')) {
  log('bench: engine toy');
  const e = benchEngineToy(S.BENCH_SECONDS!);
  results.engineToy = { ...e, load: loadavg() };
  row('engine toy: steps/s', fmt(e.stepsPerSec), results.engineToy.load);
  row('engine toy: ns/step', fmt(e.nsPerStep, 1), results.engineToy.load);
  row('floor (bare generator resume): ns/step', fmt(e.floorNsPerStep, 1), results.engineToy.load);
}

if (sectionOn('campaign')) {
  log(`bench: default campaign, all properties, ${S.BENCH_MEM_SECONDS} s (with RSS)`);
  const { all, memory } = defaultCampaignWithMemory(S.BENCH_MEM_SECONDS!);
  log(`bench: default campaign, properties: [], ${S.BENCH_CAMPAIGN_SECONDS} s`);
  const none = campaign('default campaign, properties: []', S.BENCH_CAMPAIGN_SECONDS!, { properties: [] });
  const checkingCost = none.execsPerCpuSec / all.execsPerCpuSec;
  results.defaultCampaign = {
    all,
    none,
    checkingCost,
    floorNsPerStep: results.engineToy?.floorNsPerStep,
    propertiesOff:
      'properties: [] — no property hooks run; the engine still detects deadlock, liveness, lock-order, kernel-bug and memory-safety as it runs (that cost cannot be turned off), but fuzz() does not report them',
  };
  results.memory = memory;
  for (const c of [all, none]) {
    row(`${c.label}: execs/s (wall | per CPU-s)`, `${fmt(c.execsPerSec)} | ${fmt(c.execsPerCpuSec)}`, c.load);
    row(`${c.label}: steps/s (wall | per CPU-s)`, `${fmt(c.stepsPerSec)} | ${fmt(c.stepsPerCpuSec)}`, c.load);
    row(`${c.label}: ns/step (wall | CPU)`, `${fmt(c.nsPerStep)} | ${fmt(c.nsPerStepCpu)}${results.engineToy ? ` (floor ${fmt(results.engineToy.floorNsPerStep, 1)})` : ''}`, c.load);
  }
  row('cost of checking (execs per CPU-s, none / all)', `${fmt(checkingCost, 2)}x`, none.load);
  row(`RSS at start -> after ${fmt(memory.seconds)} s of fuzzing (max) MB`, `${fmt(memory.rssStartMB)} -> ${fmt(memory.rssAfterMB)} (${fmt(memory.rssMaxMB)})`, memory.load);
}

if (sectionOn('growth')) {
  log(`bench: growth, ${S.BENCH_GROWTH_SECONDS} s per cell`);
  results.growth = growth(S.BENCH_GROWTH_SECONDS!);
  for (const g of results.growth) row(`growth ${g.label}: execs/s (wall | per CPU-s)`, `${fmt(g.execsPerSec)} | ${fmt(g.execsPerCpuSec)}`, g.load);
}

if (sectionOn('scaling')) {
  log(`bench: scaling, ${S.BENCH_SCALE_SECONDS} s per run (warm rate after ${S.BENCH_SCALE_WARMUP} s), ${S.BENCH_SCALE_REPEATS} repeat(s)`);
  results.scaling = scaling({ seconds: S.BENCH_SCALE_SECONDS!, warmupSeconds: S.BENCH_SCALE_WARMUP!, repeats: S.BENCH_SCALE_REPEATS! });
  for (const s of results.scaling) {
    row(`fuzz --workers ${s.workers}: execs/s (whole run | warm | per CPU-s)`, `${fmt(s.execsPerSec)} | ${fmt(s.warmExecsPerSec)} | ${fmt(s.execsPerCpuSec)}`, s.load);
  }
  const [one, two] = results.scaling;
  if (one && two) row('2 workers / 1 worker (whole run | warm)', `${(two.execsPerSec / one.execsPerSec).toFixed(2)}× | ${(two.warmExecsPerSec / one.warmExecsPerSec).toFixed(2)}×`);
}

if (sectionOn('coverage')) {
  log(`bench: cost of coverage, ${S.BENCH_COVERAGE_REPEATS} x (off, on), ${S.BENCH_COVERAGE_SECONDS} s each`);
  const c = coverageCost(S.BENCH_COVERAGE_SECONDS!, Math.min(5, S.BENCH_COVERAGE_SECONDS! / 4), S.BENCH_COVERAGE_REPEATS!);
  results.coverageCost = c;
  row('coverage off | on: execs per CPU-s (median)', `${fmt(c.offExecsPerCpuSec)} | ${fmt(c.onExecsPerCpuSec)}`, loadavg());
  row('cost of coverage (1 - on/off)', `${(c.cost * 100).toFixed(1)} %`);
}

if (sectionOn('patches')) {
  const kinds = (process.env.BENCH_KINDS ?? 'guided,mix').split(',').map((k) => k.trim()) as Kind[];
  for (const k of kinds) {
    if (!KINDS.includes(k)) {
      log(`bench: BENCH_KINDS names ${JSON.stringify(k)}; use a comma-separated list of ${KINDS.join(', ')}`);
      process.exit(2);
    }
  }
  // BENCH_PATCHES=013,014: only the patches whose names start with these.
  const only = process.env.BENCH_PATCHES?.split(',').map((x) => x.trim());
  // BENCH_PENDING=1: mutation/patches/pending/ too (none carries a header).
  const all = knownBadPatches(process.env.BENCH_PENDING === '1');
  const files = only ? all.filter((f) => only.some((x) => f.split('/').pop()!.startsWith(x))) : all;
  if (files.length === 0) {
    log(`bench: BENCH_PATCHES=${process.env.BENCH_PATCHES} names no patch in mutation/patches/; give name prefixes such as 013,014`);
    process.exit(2);
  }
  log(`bench: known-bad patches, ${S.BENCH_SEEDS} seeds, budget ${S.BENCH_BUDGET_S} s per campaign, section cap ${S.BENCH_PATCH_SECONDS || 'none'} s`);
  results.patches = await benchPatches({
    files,
    seeds: S.BENCH_SEEDS!,
    budgetMs: S.BENCH_BUDGET_S! * 1000,
    sectionSeconds: S.BENCH_PATCH_SECONDS,
    kinds,
    ignoreHeaders: process.env.BENCH_NO_HEADERS === '1',
    seedBase: envNum('BENCH_SEED_BASE', 0),
    budgetRuns: envNum('BENCH_BUDGET_RUNS', 0),
    progress: log,
  });
  for (const p of results.patches) {
    for (const k of p.kinds) {
      const cap = envNum('BENCH_BUDGET_RUNS', 0) > 0 ? ` or ${envNum('BENCH_BUDGET_RUNS', 0)} runs` : '';
      const miss = k.misses ? `, ${k.misses} miss(es) at ${S.BENCH_BUDGET_S} s${cap}` : '';
      const mm = k.mismatches ? `, ${k.mismatches} caught by another property` : '';
      const v = k.seeds === 0
        ? 'not run: section cap (BENCH_PATCH_SECONDS) reached'
        : k.caught
        ? `${k.caught}/${k.seeds} caught; s med ${fmt(k.medianSeconds!, 2)} max ${fmt(k.maxSeconds!, 2)}; runs med ${fmt(k.medianRuns!)} max ${fmt(k.maxRuns!)}; repro ops med ${fmt(k.medianOps!)} max ${fmt(k.maxOps!)}, switches med ${fmt(k.medianSwitches!)} max ${fmt(k.maxSwitches!)}; shrink ms med ${fmt(k.medianShrinkMs!)} max ${fmt(k.maxShrinkMs!)}${miss}${mm}`
        : `0/${k.seeds} caught${miss}${mm}`;
      row(`${p.name} ${k.kind}`, v, k.load);
    }
  }
}

results.loadAtEnd = loadavg();
results.wallSeconds = (performance.now() - started) / 1000;
row('bench wall time, s', fmt(results.wallSeconds), results.loadAtEnd);
const w = Math.max(...rows.map((r) => r[0].length));
const wv = Math.max(...rows.map((r) => r[1].length));
console.log(`node ${process.version}, ${results.cpus} cpus (${results.cpuModel}); load at start ${startLoad.raw}`);
for (const [k, v, l] of rows) console.log(`${k.padEnd(w)}  ${v.padEnd(wv)}  ${l}`);
const out = process.env.BENCH_OUT ?? 'bench/results.json';
writeFileSync(`${out}.tmp`, JSON.stringify(results, null, 2) + '\n');
renameSync(`${out}.tmp`, out);
