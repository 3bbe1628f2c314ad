import type { Trace } from '../../engine/index.ts';

type Op = string | null; // a name entered, or null for a leave

/** What kstack needs of a step: the task that just ran it, and its number. */
export interface StepContext {
  readonly execution: { readonly step: number; readonly currentTask?: { readonly id: number } };
}

/**
 * The kernel function stack of every task, step by step, from the enter/leave
 * calls of the transformed model (transform.ts). Within a step only one task
 * runs, but which one is known only at its end (afterStep): the calls of a
 * step are kept, then applied to that task's stack. A step that throws has no
 * afterStep: the first frame the throw passes through keeps the stack as it
 * was there (threw), before the finally blocks unwind it. No module state:
 * one object per traced run.
 */
export class KernelStacks {
  private pending: Op[] = [];
  private readonly stacks = new Map<number, string[]>();
  private readonly byStep = new Map<number, readonly string[]>();
  private thrown: Op[] | undefined;

  enter(name: string): void {
    this.pending.push(name);
  }

  leave(): void {
    this.pending.push(null);
  }

  threw(e: unknown): void {
    this.thrown ??= [...this.pending];
    void e;
  }

  private apply(task: number, ops: readonly Op[]): string[] {
    const s = [...(this.stacks.get(task) ?? [])];
    for (const op of ops) if (op === null) s.pop();
    else s.push(op);
    return s;
  }

  /**
   * After each step, before the properties look: the step's task is current.
   * A step is shown with the stack it started from, where the task had
   * yielded the step's label; its calls then give the next step's.
   */
  afterStep(ctx: StepContext): void {
    const task = ctx.execution.currentTask?.id;
    if (task === undefined) return;
    this.byStep.set(ctx.execution.step, this.stacks.get(task) ?? []);
    this.stacks.set(task, this.apply(task, this.pending));
    this.pending = [];
    this.thrown = undefined;
  }

  /** Put each step's stack on its trace entry; the step that threw gets the stack at the throw (where it was detected). */
  annotate(trace: Trace): void {
    for (const e of trace.entries) {
      const s = this.byStep.get(e.step);
      if (s) e.stack = s;
    }
    const last = trace.entries.at(-1);
    if (last && !this.byStep.has(last.step) && this.thrown) last.stack = this.apply(last.task, this.thrown);
  }
}
