import { SCHEDULE_TIMEOUT } from './cond_resched.ts';
import type { Schedule, Switch } from './schedule.ts';
import { defaultChoice, type Strategy } from './strategy.ts';
import { describeDeadlock, describeStarvation } from './deadlock.ts';
import { Task, type KGen } from './task.ts';
import { Trace } from './trace.ts';
import { toViolation, ViolationError, type Violation } from './violation.ts';
import type { Waitable } from './waitable.ts';
import type { ExecutionOptions, ExecutionResult } from './execution-options.ts';

export type { ExecutionOptions, ExecutionResult } from './execution-options.ts';

export const DEFAULT_MAX_STEPS = 20_000;

/**
 * The scheduler of one run: a plain stepper. The loop asks the strategy for a
 * task, resumes it for one step (to its next yield), and records the step. It
 * ends when every non-daemon task is done, or at a violation: a thrown
 * ViolationError, a deadlock, or an exhausted step budget. It knows nothing
 * of locks or memory: the Kernel that owns it (engine/kernel/boot.ts) hooks
 * in at task exit and after each step.
 */
export class Execution {
  readonly tasks: Task[] = [];
  readonly tracing: boolean;
  readonly debug: boolean;
  step = 0;
  currentTask: Task | undefined;
  /** How many synchronization events of each kind have happened (engine/sched/sync.ts). */
  readonly syncs: number[] = [0, 0, 0];
  private readonly trace: Trace | undefined;
  private readonly switches: Switch[] = [];
  private readonly warnings: string[] = [];
  private events: string[] = [];
  private readonly runnable: number[] = [];
  private readonly maxSteps: number;
  private finished = false;

  constructor(private readonly options: ExecutionOptions) {
    this.maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.tracing = options.trace ?? false;
    this.debug = options.debug ?? false;
    this.trace = this.tracing ? new Trace() : undefined;
  }

  /** Create a task; callable before run() and from inside a running task (fork). */
  spawn(name: string, body: () => KGen<unknown>, opts: { daemon?: boolean } = {}): Task {
    const t = new Task(this.tasks.length, name, body(), opts.daemon ?? false);
    this.tasks.push(t);
    this.trace?.taskNames.push(name);
    this.options.strategy.onSpawn?.(t.id);
    return t;
  }

  /** Record a lock event (or any note) against the step being run. */
  event(what: string): void {
    if (this.tracing) this.events.push(what);
  }

  warn(what: string): void {
    this.warnings.push(what);
    this.event(what);
  }

  /**
   * A synchronization event of kind `kind` (SYNC_RELEASE, SYNC_ACQUIRE,
   * SYNC_LOCK) in the step being run: the locks call this, so that a
   * strategy can place its points there. Not traced: it changes nothing.
   */
  noteSync(kind: number): void {
    this.syncs[kind]!++;
  }

  /** Mark the current task as having made progress (an op completed). */
  progress(): void {
    if (this.currentTask) this.currentTask.lastProgress = this.currentTask.steps;
  }

  run(): ExecutionResult {
    if (this.finished) throw new Error('an Execution runs once; create a new one');
    let violation: Violation | undefined;
    try {
      this.loop();
    } catch (e) {
      violation = toViolation(e, this.step, this.currentTask?.name);
    } finally {
      this.finished = true;
      this.currentTask = undefined;
    }
    return {
      violation,
      steps: this.step,
      schedule: this.switches,
      trace: this.trace,
      warnings: this.warnings,
      strategy: this.options.strategy.describe(),
    };
  }

  private loop(): void {
    const strategy = this.options.strategy;
    const afterStep = this.options.afterStep;
    let last = -1;
    let sleeping = false;
    for (;;) {
      if (!this.collectRunnable()) return;
      if (this.step >= this.maxSteps) this.starved();
      const runnable = this.runnable;
      const chosen = strategy.nextTask(runnable, last, this.step, sleeping, this.syncs);
      if (chosen !== defaultChoice(runnable, last, sleeping)) this.switches.push({ step: this.step, task: chosen });
      const task = this.tasks[chosen]!;
      if (task.state !== 'runnable') throw new Error(`strategy ${strategy.describe()} chose task ${chosen}, which is not runnable`);
      last = chosen;
      this.currentTask = task;
      const label = task.label;
      task.steps++;
      let r: IteratorResult<string | Waitable, unknown>;
      try {
        r = task.gen.next();
      } catch (e) {
        this.event('VIOLATION');
        this.recordStep(chosen, label);
        throw e;
      }
      if (r.done) this.exited(task);
      else if (typeof r.value === 'string') {
        task.label = r.value;
        if (r.value === SCHEDULE_TIMEOUT) strategy.onYield?.(chosen);
      } else this.block(task, r.value);
      sleeping = task.label === SCHEDULE_TIMEOUT && task.state === 'runnable';
      this.recordStep(chosen, label);
      afterStep?.(this);
      this.step++;
      this.currentTask = undefined;
    }
  }

  private recordStep(task: number, label: string): void {
    if (!this.trace) return;
    this.trace.entries.push({ step: this.step, task, label, events: this.events });
    this.events = [];
  }

  /** Fill `runnable` (ascending ids). False when the execution is over. */
  private collectRunnable(): boolean {
    const runnable = this.runnable;
    runnable.length = 0;
    let live = false;
    for (const t of this.tasks) {
      if (t.state === 'runnable') runnable.push(t.id);
      if (t.state !== 'done' && !t.daemon) live = true;
    }
    // Runnable daemons (the RCU kthread running its last callbacks) finish their
    // work after the last user task; idle daemons do not keep the run alive.
    if (runnable.length > 0) return true;
    if (live) this.deadlocked();
    return false;
  }

  private block(task: Task, w: Waitable): void {
    task.state = 'blocked';
    task.waitingOn = w;
    w.addWaiter(task);
  }

  private exited(task: Task): void {
    task.state = 'done';
    this.options.onTaskExit?.(task);
  }

  /** No task can run, yet some have not finished: report the wait-for cycle. */
  private deadlocked(): never {
    const msg = describeDeadlock(this.tasks.filter((t) => t.state === 'blocked'));
    this.currentTask = undefined;
    throw this.violationError('deadlock', msg);
  }

  /** The step budget ran out: name the task that went longest without progress. */
  private starved(): never {
    this.currentTask = undefined;
    throw this.violationError('liveness', describeStarvation(this.tasks, this.maxSteps));
  }

  private violationError(property: string, message: string): ViolationError {
    return new ViolationError({ property, message, step: this.step });
  }
}
