import { Prng } from './prng.ts';
import type { Strategy } from './strategy.ts';

/** Uniform random choice among the runnable tasks at every step. */
export class RandomWalk implements Strategy {
  private readonly prng: Prng;

  constructor(readonly seed: number) {
    this.prng = new Prng(seed);
  }

  nextTask(runnable: readonly number[]): number {
    return runnable[this.prng.below(runnable.length)]!;
  }

  describe(): string {
    return `random-walk(seed=${this.seed})`;
  }
}
