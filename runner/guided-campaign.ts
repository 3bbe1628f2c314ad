/**
 * The coverage-guided campaign as fuzz() runs it: the input source
 * (guided.ts), the coverage probe around each run, a saved queue replayed
 * first, and (with a patch) the reach of its changed lines.
 */
import type { RunResult } from '../engine/program/executor.ts';
import { makeStrategy } from '../generators/index.ts';
import { runCase, type CaseOptions } from './case.ts';
import { CoverageProbe } from './coverage/probe.ts';
import { ReachTracker, type PatchReach } from './coverage/reach.ts';
import { patchTargets } from './coverage/targets.ts';
import type { FuzzOptions } from './fuzz.ts';
import { GuidedSource } from './guided.ts';
import type { CaseInput } from './seeds.ts';

export interface CoverageSummary {
  /** Instrumented branch counters of the model, and how many ran in some run (0 of 0: the model was loaded uninstrumented). */
  readonly branchSites: number;
  readonly branchesReached: number;
  readonly features: number;
  readonly queue: number;
  readonly mutants: number;
  readonly mutantsKept: number;
  /** The schedule depth level at the end (0: default; each level one preemption and one PCT change point more). */
  readonly level: number;
  readonly replayed: number;
}

export class GuidedCampaign {
  private readonly source: GuidedSource;
  private readonly probe: CoverageProbe;
  private readonly reach: ReachTracker | undefined;
  private readonly reached: Uint8Array;
  private readonly initial: readonly CaseInput[];
  private replayed = 0;
  private mutant = false;
  private choice: readonly number[] | undefined;

  constructor(seed: number, o: FuzzOptions) {
    this.source = new GuidedSource(seed, o.program, o.schedule);
    const plain = new CoverageProbe();
    const b = plain.branches;
    this.reach = o.patch === undefined ? undefined : new ReachTracker(patchTargets(o.patch, b.coveredFiles, b.lo));
    this.probe = this.reach ? new CoverageProbe(this.reach.targets.labels, this.reach.targets.sites) : plain;
    this.reached = new Uint8Array(b.size);
    this.initial = o.initialQueue ?? [];
  }

  next(i: number): { input: CaseInput } {
    if (this.replayed < this.initial.length) {
      this.mutant = false;
      this.choice = undefined;
      return { input: this.initial[this.replayed++]! };
    }
    const n = this.source.next(i);
    this.mutant = n.mutant;
    this.choice = n.choice;
    return n;
  }

  run(input: CaseInput, co: CaseOptions): RunResult {
    const probe = this.probe;
    probe.begin();
    const r = runCase(input.program, makeStrategy(input.schedule), co, (h) => probe.hooks(h));
    const reach = this.reach;
    const reached = this.reached;
    const features = probe.end((site) => {
      reached[site] = 1;
      reach?.site(site);
    });
    const pairs = probe.inter.pairsAtTargets;
    const ran = reach?.endRun(input.program, pairs) ?? false;
    const target = !ran ? 0 : pairs && pairs.size > 0 ? 2 : 1;
    // Directed: a fresh draw's shape is rewarded for reaching the patch, and more for a switch at a changed point.
    if (reach && this.choice) this.source.choices.reward(this.choice, target / 2);
    this.source.observe(input, r, features, this.mutant, target);
    return r;
  }

  /** The branch sites no run of this campaign reached, as file, line, kind and function. */
  unreached(): { file: string; line: number; kind: string; fn: string }[] {
    const b = this.probe.branches;
    return b.coveredFiles.flatMap((f) =>
      f.sites.flatMap((s, i) => (this.reached[f.base - b.lo + i] ? [] : [{ file: f.url.slice(f.url.indexOf('/engine/') + 1), line: s.line, kind: s.kind, fn: f.functions[s.fn]! }])),
    );
  }

  results(keepQueue: boolean): { coverage: CoverageSummary; reach?: PatchReach; queue?: readonly CaseInput[] } {
    const s = this.source;
    const coverage: CoverageSummary = {
      branchSites: this.reached.length,
      branchesReached: this.reached.reduce((n, x) => n + x, 0),
      features: s.features.size,
      queue: s.queue.length,
      mutants: s.mutants,
      mutantsKept: s.mutantsKept,
      level: s.level,
      replayed: this.replayed,
    };
    return { coverage, ...(this.reach ? { reach: this.reach.summary() } : {}), ...(keepQueue ? { queue: s.queue.entries.map((e) => e.input) } : {}) };
  }
}
