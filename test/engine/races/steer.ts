// A hand-written schedule by rules rather than step numbers: park a task at a
// preemption point (its next step's label) until a condition holds, so that a
// witness keeps working when the model gains or loses a step elsewhere. The
// run records what actually ran (RunResult.schedule), which replays as usual.
import type { Engine } from './witness.ts';

/**
 * Park `task` when it is about to run a step whose label starts with `at`, until `until()` holds,
 * nothing else can run, or another task sleeps in a retry loop (it waits for the parked one).
 */
export interface Park {
  readonly task: string;
  readonly at: string;
  /** Arm the park only once the task has been at a label starting with this one (or once this holds). */
  readonly after?: string | ((tasks: readonly SteerTask[]) => boolean);
  /** Release the task (default: when no other task can run). */
  readonly until?: (tasks: readonly SteerTask[]) => boolean;
}

export interface SteerTask {
  readonly id: number;
  readonly name: string;
  readonly state: string;
  readonly label: string;
}

/** Which parks were reached, and whether one had to be broken because nothing else could run. */
export interface SteerLog {
  readonly reached: boolean[];
  forced: boolean;
  /** A park was let go because another task slept waiting (a retry loop). */
  released?: boolean;
}

/** A strategy that applies `parks` (each once, in any order) and otherwise the default rule. */
export function steer(engine: Engine, parks: readonly Park[], log: SteerLog = { reached: parks.map(() => false), forced: false }) {
  const active = new Set<number>();
  const armed = parks.map((p) => p.after === undefined);
  const strategy = {
    nextTask(runnable: readonly number[], current: number, _step: number, sleeping: boolean): number {
      const tasks = engine.this_kernel().sched.tasks as readonly SteerTask[];
      parks.forEach((p, i) => {
        if (log.reached[i]) return;
        const t = tasks.find((u) => u.name === p.task);
        if (t && !armed[i] && (typeof p.after === 'string' ? t.label.startsWith(p.after) : p.after!(tasks))) armed[i] = true;
        if (t && armed[i] && t.state === 'runnable' && t.label.startsWith(p.at)) {
          log.reached[i] = true;
          active.add(i);
        }
      });
      // A task that sleeps in a retry loop (schedule_timeout) waits for a parked one: let it go.
      if (sleeping && active.size) {
        log.released = true;
        active.clear();
      }
      for (const i of [...active]) if (parks[i]!.until?.(tasks)) active.delete(i);
      const parked = new Set([...active].map((i) => tasks.find((u) => u.name === parks[i]!.task)!.id));
      const free = runnable.filter((id) => !parked.has(id));
      if (free.length === 0) {
        if (parked.size) log.forced = true;
        active.clear();
        return engine.defaultChoice(runnable, current, sleeping);
      }
      return engine.defaultChoice(free, current, sleeping);
    },
    describe: () => `steer ${parks.map((p) => `${p.task}@${p.at}`).join(', ')}`,
  };
  return { strategy, log };
}

/** A task's name has finished (or never existed). */
export const done = (name: string) => (tasks: readonly SteerTask[]) => tasks.find((t) => t.name === name)?.state === 'done';

/** `task` is parked at (its next step is) a label starting with `label`. */
export const at = (task: string, label: string) => (tasks: readonly SteerTask[]) => tasks.find((t) => t.name === task)?.label.startsWith(label) ?? false;

/** `task` has come to a label starting with `label` for the `n`-th time (a stateful condition: one per park). */
export function nth(task: string, label: string, n: number) {
  let count = 0;
  let was = false;
  return (tasks: readonly SteerTask[]): boolean => {
    const is = tasks.find((t) => t.name === task)?.label.startsWith(label) ?? false;
    if (is && !was) count++;
    was = is;
    return count >= n;
  };
}
