/**
 * The choice table of a guided campaign's fresh draws: one value per swarm
 * dimension (generators/swarm.ts), drawn by weight. Undirected, the weights
 * are the table's priors. A patch-directed campaign rewards the choices whose
 * runs reached the patch (ran a changed line; more when a context switch
 * fell at a changed preemption point) and draws each value in proportion to
 * its prior times its reward rate against the campaign's: AFLGo-style
 * directed greybox fuzzing, over program shapes rather than seeds. Op kinds
 * are learnt the same way: once enough runs were rewarded, half the fresh
 * draws always include the few kinds whose programs are rewarded most above
 * the campaign's average (swapoff for a swapoff patch, fork for an rmap
 * patch), each other kind in or out at random. It reads
 * nothing but the patch's diff and the runs, so it serves an unknown patch
 * as well as a catalogued one.
 */
import type { OpKind } from '../engine/program/ops.ts';
import type { Prng } from '../engine/sched/prng.ts';
import type { SwarmDimension } from '../generators/swarm.ts';

/** Runs between two updates of the directed op kinds, and the rewarded runs needed before the first. */
const KIND_EPOCH = 256;
const MIN_REWARDED = 16;
/** A kind whose programs are rewarded this many times the average is always drawn; at most MAX_MUST of them. */
const MIN_LIFT = 1.25;
const SHRINK = 16;
const MAX_MUST = 4;
/** Observers and the prelude's kinds (without mmap no program touches memory). */
const ALWAYS: readonly OpKind[] = ['mmap', 'read', 'write', 'swapon'];

/** A value's boost is bounded: an unlucky value is drawn less, never starved. */
const MIN_BOOST = 1 / 4;
const MAX_BOOST = 4;
/** What a mutant's run counts for, against a fresh draw's 1. */
const MUTANT_CREDIT = 0.1;

export class SwarmChoices {
  private readonly draws: number[][];
  private readonly rewards: number[][];
  private total = 0;
  private rewarded = 0;
  private rewardedRuns = 0;
  private runs = 0;
  private readonly kindDraws = new Map<OpKind, number>();
  private readonly kindRewards = new Map<OpKind, number>();
  /** The kinds directed draws swarm over, recomputed every KIND_EPOCH fresh draws (so the arbitraries cached per set stay few). */
  private good: readonly OpKind[] | undefined;

  constructor(readonly dims: readonly SwarmDimension[]) {
    this.draws = dims.map((d) => d.values.map(() => 0));
    this.rewards = dims.map((d) => d.values.map(() => 0));
  }

  private boost(d: number, v: number): number {
    if (this.rewarded === 0) return 1;
    const rate = (this.rewards[d]![v]! + 0.5) / (this.draws[d]![v]! + 1);
    const all = (this.rewarded + 0.5) / (this.total + 1);
    return Math.min(MAX_BOOST, Math.max(MIN_BOOST, rate / all));
  }

  /** One value index per dimension. */
  choose(rng: Prng): number[] {
    return this.dims.map((dim, d) => {
      const w = dim.weights.map((p, v) => p * this.boost(d, v));
      let x = (rng.nextU32() / 2 ** 32) * w.reduce((a, b) => a + b, 0);
      for (let v = 0; v < w.length; v++) if ((x -= w[v]!) < 0) return v;
      return w.length - 1;
    });
  }

  /** A run is over: the choice of the fresh draw it descends from, its reward in [0, 1], and the op kinds its program has. */
  reward(choice: readonly number[], r: number, kinds: Iterable<OpKind> = [], mutant = false): void {
    // A mutant counts for less: many descend from one root, whose every value would otherwise win.
    const w = mutant ? MUTANT_CREDIT : 1;
    this.runs++;
    this.total += w;
    this.rewarded += w * r;
    if (r > 0) this.rewardedRuns++;
    choice.forEach((v, d) => {
      this.draws[d]![v]! += w;
      this.rewards[d]![v]! += w * r;
    });
    for (const k of kinds) {
      this.kindDraws.set(k, (this.kindDraws.get(k) ?? 0) + w);
      this.kindRewards.set(k, (this.kindRewards.get(k) ?? 0) + w * r);
    }
    if (this.runs % KIND_EPOCH === 0 && this.rewardedRuns >= MIN_REWARDED) this.good = this.liftedKinds();
  }

  private liftedKinds(): readonly OpKind[] | undefined {
    const all = this.rewarded / this.total;
    // Shrunk toward the average by SHRINK runs' worth: a kind seen in few runs is not lifted by luck.
    const lift = (k: OpKind): number => (this.kindRewards.get(k)! + SHRINK * all) / (this.kindDraws.get(k)! + SHRINK) / all;
    const ks = [...this.kindDraws.keys()].filter((k) => lift(k) >= MIN_LIFT);
    return ks.length ? ks.sort((a, b) => lift(b) - lift(a) || (a < b ? -1 : 1)).slice(0, MAX_MUST) : undefined;
  }

  /**
   * Directed, half the time: the op kinds of a fresh draw, all of them used
   * (undefined: the campaign's own swarm). The lifted kinds, reads, writes
   * and the prelude's kinds always; each other kind of `allowed` by a coin.
   */
  kinds(rng: Prng, allowed: readonly OpKind[]): readonly OpKind[] | undefined {
    if (!this.good || rng.below(2) !== 0) return undefined;
    const must = new Set<OpKind>([...this.good, ...ALWAYS]);
    return allowed.filter((k) => must.has(k) || rng.below(2) === 0);
  }

  /** The op kinds directed draws always include now (undefined: not learnt yet, or none stands out). */
  get directedKinds(): readonly OpKind[] | undefined {
    return this.good;
  }

  /** Per dimension, the values by current weight (for the campaign's summary). */
  weights(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    this.dims.forEach((dim, d) => (out[dim.key] = Object.fromEntries(dim.values.map((v, i) => [String(v), Number((dim.weights[i]! * this.boost(d, i)).toFixed(2))]))));
    return out;
  }
}
