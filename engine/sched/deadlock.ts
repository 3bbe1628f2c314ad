import type { Task } from './task.ts';

/*
 * Why a run cannot go on, in words: no task can run (a deadlock), or the
 * step budget ran out (a livelock, or a task that never made progress).
 */

/** The liveness message: the task that went longest without progress. */
export function describeStarvation(tasks: readonly Task[], maxSteps: number): string {
  let worst: Task | undefined;
  for (const t of tasks) {
    if (t.state === 'done') continue;
    if (!worst || t.steps - t.lastProgress > worst.steps - worst.lastProgress) worst = t;
  }
  const w = worst!;
  return `step budget of ${maxSteps} exhausted: ${w} made no progress for ${w.steps - w.lastProgress} of its steps, last at "${w.label}"`;
}

/** The deadlock message: the wait-for cycle if there is one, else every blocked task and what it waits for. */
export function describeDeadlock(blocked: readonly Task[]): string {
  const cycle = findWaitCycle(blocked);
  const describe = (t: Task): string => {
    const w = t.waitingOn!;
    const hs = w.holders();
    return `${t} waits for ${w.describe()}${hs.length ? ` held by ${hs.join(', ')}` : ' (no holder)'} at "${t.label}"`;
  };
  return cycle
    ? `deadlock: ${cycle.map(describe).join(' -> ')} -> back to ${cycle[0]}`
    : `no runnable task: ${blocked.map(describe).join('; ')}`;
}

/** A cycle in the wait-for graph (task -> holder of what it waits on), if any. */
export function findWaitCycle(blocked: readonly Task[]): Task[] | undefined {
  const state = new Map<Task, 1 | 2>();
  const path: Task[] = [];
  const visit = (t: Task): Task[] | undefined => {
    if (state.get(t) === 2) return undefined;
    if (state.get(t) === 1) return path.slice(path.indexOf(t));
    if (t.state !== 'blocked' || !t.waitingOn) return undefined;
    state.set(t, 1);
    path.push(t);
    for (const h of t.waitingOn.holders()) {
      if (h === t) return [t];
      const c = visit(h);
      if (c) return c;
    }
    path.pop();
    state.set(t, 2);
    return undefined;
  };
  for (const t of blocked) {
    const c = visit(t);
    if (c) return c;
  }
  return undefined;
}
