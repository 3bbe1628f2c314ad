import type { Execution } from '../sched/execution.ts';
import { current, report, this_kernel } from '../kernel/current.ts';
import type { KGen, Task } from '../sched/task.ts';
import { Waitable, WaitQueue } from '../sched/waitable.ts';
import { syncAcquired, syncReleased } from './held.ts';

/**
 * A grace period: it ends once every task that was inside an RCU read-side
 * section when it began has left that section.
 */
class GracePeriod extends Waitable {
  private readonly pending: { task: Task; sections: number }[] = [];

  constructor(readers: readonly Task[], self: Task | undefined) {
    super();
    for (const t of readers) if (t !== self) this.pending.push({ task: t, sections: t.rcuSections });
  }

  /** Drop readers that have since left their section (or exited). */
  advance(): boolean {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      if (p.task.rcuSections !== p.sections || p.task.state === 'done') this.pending.splice(i, 1);
    }
    return this.pending.length === 0;
  }

  holders(): readonly Task[] {
    return this.pending.map((p) => p.task);
  }

  describe(): string {
    return 'an RCU grace period';
  }
}

/**
 * RCU for one execution: read-side sections per task, grace periods that
 * synchronize_rcu() sleeps on, and call_rcu() callbacks run by a grace-period
 * kthread, a schedulable task like any other, so a callback's free can be
 * interleaved with the readers it must wait for.
 */
export class RcuState {
  private readonly gps: GracePeriod[] = [];
  private readonly callbacks: (() => void)[] = [];
  private readonly idle = new WaitQueue('rcu_gp_kthread idle');
  private kthread: Task | undefined;

  constructor(private readonly ex: Execution) {}

  readers(): Task[] {
    return this.ex.tasks.filter((t) => t.rcuDepth > 0);
  }

  newGracePeriod(self: Task | undefined): GracePeriod {
    const gp = new GracePeriod(this.readers(), self);
    if (!gp.advance()) this.gps.push(gp);
    return gp;
  }

  /** An outermost rcu_read_unlock(): some grace periods may have ended. */
  sectionEnded(): void {
    for (let i = this.gps.length - 1; i >= 0; i--) {
      const gp = this.gps[i]!;
      if (gp.advance()) {
        this.gps.splice(i, 1);
        gp.wakeAll();
      }
    }
  }

  enqueue(cb: () => void): void {
    this.callbacks.push(cb);
    this.kthread ??= this.ex.spawn('rcu_gp', () => this.rcu_gp_kthread(), { daemon: true });
    this.idle.wakeAll();
  }

  taskExit(task: Task): void {
    if (task.rcuDepth > 0) {
      report('lock-order', `${task} exited inside an RCU read-side critical section (rcu_read_lock without rcu_read_unlock)`);
    }
    this.sectionEnded();
  }

  private *rcu_gp_kthread(): KGen {
    for (;;) {
      while (this.callbacks.length === 0) yield this.idle;
      const batch = this.callbacks.splice(0);
      yield* synchronize_rcu();
      yield 'rcu_do_batch';
      for (const cb of batch) cb();
    }
  }
}

export function rcu_read_lock(): void {
  if (current().rcuDepth++ === 0) syncAcquired();
}

export function rcu_read_unlock(): void {
  const t = current();
  if (t.rcuDepth === 0) report('lock-order', `${t}: rcu_read_unlock() without rcu_read_lock()`);
  if (--t.rcuDepth === 0) {
    t.rcuSections++;
    syncReleased();
    this_kernel().rcu.sectionEnded();
  }
}

/** Sleep until every pre-existing RCU reader is done. */
export function* synchronize_rcu(): KGen {
  yield 'synchronize_rcu';
  const me = current();
  if (me.rcuDepth > 0) report('kernel-bug', `${me}: synchronize_rcu() inside an RCU read-side critical section`);
  const gp = this_kernel().rcu.newGracePeriod(me);
  while (!gp.advance()) yield gp;
}

/** Run `cb` after a grace period, from the grace-period kthread. */
export function call_rcu(cb: () => void): void {
  this_kernel().rcu.enqueue(cb);
}
