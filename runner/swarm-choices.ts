/**
 * The choice table of a guided campaign's fresh draws: one value per swarm
 * dimension (generators/swarm.ts), drawn by weight. Undirected, the weights
 * are the table's priors. A patch-directed campaign rewards the choices whose
 * runs reached the patch (ran a changed line; more when a context switch
 * fell at a changed preemption point) and draws each value in proportion to
 * its prior times its reward rate against the campaign's: AFLGo-style
 * directed greybox fuzzing, over program shapes rather than seeds. It reads
 * nothing but the patch's diff and the runs, so it serves an unknown patch
 * as well as a catalogued one.
 */
import type { Prng } from '../engine/sched/prng.ts';
import type { SwarmDimension } from '../generators/swarm.ts';

/** A value's boost is bounded: an unlucky value is drawn less, never starved. */
const MIN_BOOST = 1 / 8;
const MAX_BOOST = 8;

export class SwarmChoices {
  private readonly draws: number[][];
  private readonly rewards: number[][];
  private total = 0;
  private rewarded = 0;

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

  /** A fresh draw's run is over: its reward in [0, 1]. */
  reward(choice: readonly number[], r: number): void {
    this.total++;
    this.rewarded += r;
    choice.forEach((v, d) => {
      this.draws[d]![v]!++;
      this.rewards[d]![v]! += r;
    });
  }

  /** Per dimension, the values by current weight (for the campaign's summary). */
  weights(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    this.dims.forEach((dim, d) => (out[dim.key] = Object.fromEntries(dim.values.map((v, i) => [String(v), Number((dim.weights[i]! * this.boost(d, i)).toFixed(2))]))));
    return out;
  }
}
