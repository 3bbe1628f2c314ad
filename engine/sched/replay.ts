import type { Schedule } from './schedule.ts';
import { defaultChoice, type Strategy } from './strategy.ts';

/**
 * Replays a recorded switch list. A switch naming a task that is not runnable
 * at its step (the program or schedule was shrunk) is skipped: the fixed rule
 * decides instead, so a shrunk schedule never crashes the replay.
 */
export class Replay implements Strategy {
  private next = 0;

  constructor(readonly schedule: Schedule) {}

  nextTask(runnable: readonly number[], current: number, step: number, sleeping: boolean): number {
    const sw = this.schedule;
    while (this.next < sw.length && sw[this.next]!.step < step) this.next++;
    if (this.next < sw.length && sw[this.next]!.step === step) {
      const want = sw[this.next]!.task;
      if (runnable.includes(want)) return want;
    }
    return defaultChoice(runnable, current, sleeping);
  }

  describe(): string {
    return `replay(${this.schedule.length} switches)`;
  }
}
