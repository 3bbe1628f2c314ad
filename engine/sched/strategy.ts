/**
 * The scheduler is an oracle asked at every step. It sees the runnable task ids
 * (ascending) and the task that ran last, and names the next one. Strategies
 * live one per file: random-walk.ts, pct.ts, preemption-bounded.ts, replay.ts.
 */
export interface Strategy {
  /**
   * Called before each step; `current` is -1 before the first step, and
   * `sleeping` says it just slept in schedule_timeout (see defaultChoice), and
   * `syncs` counts the synchronization events so far, per kind (sync.ts).
   */
  nextTask(runnable: readonly number[], current: number, step: number, sleeping: boolean, syncs: readonly number[]): number;
  /** A task was created (PCT gives it a priority). */
  onSpawn?(id: number): void;
  /**
   * A task sleeps in schedule_timeout_uninterruptible(): a loop waiting for someone else.
   * A priority scheduler must let the others run, or it livelocks the model
   * where the kernel would not (the loop sleeps, or other CPUs progress).
   */
  onYield?(id: number): void;
  /** What this strategy was, for reports: `pct(n=3,k=200,d=3,seed=7)`. */
  describe(): string;
}

/**
 * The fixed rule every execution falls back to, and relative to which the
 * canonical schedule records its switches: keep running the current task while
 * it can run, otherwise the lowest runnable id. A task that just slept in
 * schedule_timeout_uninterruptible() is waiting for someone else: the next
 * runnable id after it goes first (round robin), or a replay would spin it
 * forever.
 */
export function defaultChoice(runnable: readonly number[], current: number, sleeping = false): number {
  let found = false;
  for (let i = 0; i < runnable.length; i++) if (runnable[i] === current) found = true;
  if (!found) return runnable[0]!;
  if (!sleeping || runnable.length === 1) return current;
  for (let i = 0; i < runnable.length; i++) if (runnable[i]! > current) return runnable[i]!;
  return runnable[0]!;
}
