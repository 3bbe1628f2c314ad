/**
 * The coverage-guided campaign as fuzz() runs it: the input source
 * (guided.ts), the coverage probe around each run, a saved queue replayed
 * first, and (with a patch) the reach of its changed lines.
 */
import type { RunResult } from '../engine/program/executor.ts';
import type { OpKind, Program } from '../engine/program/ops.ts';
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
    const end = reach?.endRun(input.program, probe.inter.pairsAtTargets);
    // Directed: tier 2 is a run that found a new interleaving at the patch (a switch at or next to changed code).
    const target = !end?.reached ? 0 : end.newPairs > 0 ? 2 : 1;
    // The shape a run descends from is rewarded a little for reaching the patch, and most for new interleavings there:
    // the shapes that make other tasks interfere with the changed code, not only run it.
    if (end && this.choice) this.source.choices.reward(this.choice, end.reached ? 0.2 + 0.8 * Math.min(1, end.newPairs / 2) : 0, opKinds(input.program), this.mutant);
    this.source.observe(input, r, features, this.mutant, target, this.choice, () => probe.inter.points());
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
    const shapes = { weights: s.choices.weights(), ...(s.choices.directedKinds ? { kinds: s.choices.directedKinds } : {}) };
    return { coverage, ...(this.reach ? { reach: { ...this.reach.summary(), shapes } } : {}), ...(keepQueue ? { queue: s.queue.entries.map((e) => e.input) } : {}) };
  }
}

/** The op kinds a program has. */
function opKinds(p: Program): Set<OpKind> {
  const out = new Set<OpKind>();
  for (const proc of p.processes) for (const t of proc.threads) for (const op of t) out.add(op.op);
  for (const t of p.kthreads ?? []) for (const op of t) out.add(op.op);
  return out;
}
