/**
 * The coverage-guided input source (the default campaign): fresh fast-check
 * draws beside mutants of queued inputs, libFuzzer/syzkaller-style. A run
 * that adds coverage (branches of the model, interleaving pairs, lock orders)
 * joins the queue. Where coverage stops growing, fresh draws and mutants get
 * deeper schedules (more preemptions, more PCT change points).
 *
 * Deterministic for a seed: run i's choices come from runSeed(seed, i), and
 * the queue holds what runs before i found, in order.
 */
import type fc from 'fast-check';
import type { RunResult } from '../engine/program/executor.ts';
import type { OpKind } from '../engine/program/ops.ts';
import { Prng } from '../engine/sched/prng.ts';
import { resolveProgramOptions, type ProgramArbOptions, type ScheduleArbOptions } from '../generators/index.ts';
import { swarmDimensions, swarmOptions } from '../generators/swarm.ts';
import { FeatureMap } from './coverage/features.ts';
import { ProgramMutator } from './mutate/program.ts';
import { mutateSchedule } from './mutate/schedule.ts';
import { Queue } from './queue.ts';
import { caseArb, generateCase, runSeed, type CaseInput } from './seeds.ts';
import { SwarmChoices } from './swarm-choices.ts';

/** Percent of runs that are fresh draws once the queue has entries. */
export const FRESH_PERCENT = 20;
/** Runs without new coverage before the schedules get one level deeper. */
export const STALL_RUNS = 2_000;
/** Levels: 0 is the generator's default depth (2 preemptions, PCT depth 4); each level adds one. */
export const MAX_LEVEL = 4;
/** Fresh-draw arbitraries kept (one per shape, depth level and directed kind set). */
const MAX_ARBS = 4096;

const NO_POINTS = new Uint32Array(0);

export class GuidedSource {
  readonly features = new FeatureMap();
  readonly queue = new Queue();
  private readonly arbs = new Map<string, fc.Arbitrary<CaseInput>>();
  /** Fresh draws' shapes: the swarm over the options the campaign leaves open (generators/swarm.ts). */
  readonly choices: SwarmChoices;
  private readonly mutator: ProgramMutator;
  private sinceNew = 0;
  /** Runs that were mutants, and mutants that joined the queue. */
  mutants = 0;
  mutantsKept = 0;

  private readonly mutatorOps: readonly OpKind[];

  constructor(
    private readonly seed: number,
    private readonly program: ProgramArbOptions | undefined,
    private readonly schedule: ScheduleArbOptions = {},
  ) {
    const resolved = resolveProgramOptions(program);
    this.mutator = new ProgramMutator(resolved);
    this.mutatorOps = resolved.ops;
    this.choices = new SwarmChoices(swarmDimensions(program, schedule));
  }

  /** How deep schedules go now: one level per STALL_RUNS·2^level runs without new coverage. */
  get level(): number {
    let l = 0;
    while (l < MAX_LEVEL && this.sinceNew >= STALL_RUNS * (2 ** (l + 1) - 1)) l++;
    return l;
  }

  private arb(choice: readonly number[], level: number, kinds: readonly OpKind[] | undefined): fc.Arbitrary<CaseInput> {
    const key = `${choice.join(',')}/${level}/${kinds?.join(',') ?? ''}`;
    // Directed draws' kind sets are many: the cache is bounded (building an arbitrary is cheap next to a run).
    if (this.arbs.size >= MAX_ARBS) this.arbs.clear();
    let a = this.arbs.get(key);
    if (!a) {
      const o = swarmOptions(this.choices.dims, choice, this.program, this.schedule);
      const s = o.schedule;
      const program = kinds ? { ...o.program, ops: kinds, swarm: false } : o.program;
      a = caseArb(program, { ...s, maxPreemptions: s.maxPreemptions ?? 2 + level, maxDepth: s.maxDepth ?? 4 + level });
      this.arbs.set(key, a);
    }
    return a;
  }

  /**
   * Run i's input: a fresh draw (its shape from the choice table) or a
   * mutant; with the choice it descends from, so that the run's reward is
   * credited to that shape (a shape whose descendants reach the patch).
   */
  next(i: number): { input: CaseInput; mutant: boolean; choice?: readonly number[] } {
    const level = this.level;
    const rng = new Prng(runSeed(this.seed ^ 0x5bd1e995, i));
    if (this.queue.length === 0 || rng.below(100) < FRESH_PERCENT) {
      const choice = this.choices.choose(rng);
      const kinds = this.choices.kinds(rng, this.mutatorOps);
      return { input: generateCase(this.arb(choice, level, kinds), this.seed, i), mutant: false, choice };
    }
    this.mutants++;
    const parent = this.queue.pick(rng);
    const what = rng.below(3);
    const other = this.queue.length > 1 ? this.queue.entries[rng.below(this.queue.length)]!.input.program : undefined;
    const program = what === 1 ? parent.input.program : this.mutator.mutate(parent.input.program, rng, other);
    const schedule = what === 0 ? parent.input.schedule : mutateSchedule({ spec: parent.input.schedule, recorded: parent.recorded, steps: parent.steps, tasks: parent.tasks, points: parent.points }, rng, 2 + 2 * MAX_LEVEL);
    return { input: { program, schedule }, mutant: true, ...(parent.choice ? { choice: parent.choice } : {}) };
  }

  /** After the run: keep the input if its features added coverage. Returns the count of new features. */
  observe(input: CaseInput, r: RunResult, features: readonly number[], mutant: boolean, target: 0 | 1 | 2 = 0, choice?: readonly number[], points?: () => Uint32Array): number {
    const fresh = this.features.addAll(features);
    if (fresh > 0) {
      this.queue.push({ input, recorded: r.schedule, steps: r.steps, tasks: r.context.execution.tasks.length, points: points ? points() : NO_POINTS, fresh, target, picked: 0, ...(choice ? { choice } : {}) });
      this.sinceNew = 0;
      if (mutant) this.mutantsKept++;
    } else this.sinceNew++;
    return fresh;
  }
}
