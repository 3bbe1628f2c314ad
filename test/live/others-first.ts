// A schedule for judging a liveness finding: replay the entry's switches up to
// a step, then run every task but the spinner first, so the spinner runs only
// when nothing else can. If it still makes no progress once every other task
// has run to its end, nobody else was going to resolve what it waits for: the
// livelock is the model's (and the kernel's), not the preemption bound's.
import { Replay, type Schedule, type Strategy } from '../../engine/index.ts';

export class OthersFirst implements Strategy {
  private readonly replay: Replay;

  constructor(
    schedule: Schedule,
    private readonly from: number,
    private readonly spinner: number,
  ) {
    this.replay = new Replay(schedule);
  }

  nextTask(runnable: readonly number[], current: number, step: number, sleeping: boolean): number {
    if (step < this.from) return this.replay.nextTask(runnable, current, step, sleeping);
    const other = runnable.find((t) => t !== this.spinner);
    return other ?? this.spinner;
  }

  describe(): string {
    return `others-first(from ${this.from}, spinner ${this.spinner})`;
  }
}
