import type { Execution } from '../sched/execution.ts';
import { siteOf, type HeldLock, type Task } from '../sched/task.ts';
import { ViolationError } from '../sched/violation.ts';
import type { LockLike } from './lock-class.ts';
import { DocumentedOrder } from './lock-order.ts';
import { kernelStack } from './kernel-stack.ts';

export { DocumentedOrder, type LockOrder } from './lock-order.ts';

/**
 * A recorded order: the two acquisitions (the held lock, then the new one) and
 * the task, or undefined for one seeded from the documented order. Messages
 * are made from them only when an inversion is reported.
 */
interface Edge {
  readonly held: HeldLock;
  readonly mine: HeldLock;
  readonly task: Task;
}
type EdgeOrDoc = Edge | undefined;

const NO_ORDER = new DocumentedOrder([]);

/**
 * Lockdep for one execution: the order graph between lock classes (at their
 * nesting subclass), recorded across the run. Taking B while holding A adds
 * A -> B; if B ->* A was already recorded, that is an inversion: a deadlock
 * some other interleaving would hit, reported even if this one did not.
 * Checked at a successful acquisition, so a run that really deadlocks is
 * reported by the deadlock detector with its wait-for cycle instead.
 *
 * The graph starts out holding the kernel's documented order (the chains of
 * `order`, each class before the next), so that taking locks against it is
 * an inversion even in a run that only ever takes them one way round.
 */
export class Lockdep {
  /** The orders this run recorded beyond the documented ones. */
  private readonly graph = new Map<string, Map<string, Edge>>();
  /** reaches()'s scratch, kept across calls: a new order is checked at every first acquisition of a pair. */
  private readonly seen = new Set<string>();
  private readonly queue: string[] = [];

  constructor(
    private readonly ex: Execution,
    private readonly documented: DocumentedOrder = NO_ORDER,
  ) {}

  acquired(task: Task, lock: LockLike, subclass: number, read: boolean, trylock: boolean): void {
    const key = lock.lockClass.key(subclass);
    const stack = this.ex.debug ? kernelStack() : undefined;
    const mine = { lock, subclass, read, at: this.ex.step, stack };
    const held = task.held;
    if (!trylock) {
      for (let i = 0; i < held.length; i++) {
        const h = held[i]!;
        const hkey = h.lock.lockClass.key(h.subclass);
        if (hkey === key) {
          this.fail(
            `possible recursive locking: ${task} acquires ${lock.name} (${key}) at ${siteOf(mine)} while holding ${h.lock.name} taken at ${siteOf(h)}; use a nesting subclass if this is intended`,
          );
        }
        this.addEdge(task, hkey, key, h, mine);
      }
    }
    held.push(mine);
    if (this.ex.tracing) this.ex.event(`+${lock.name}${read ? '(r)' : ''}`);
  }

  released(task: Task, lock: LockLike): void {
    const held = task.held;
    for (let i = held.length - 1; i >= 0; i--) {
      if (held[i]!.lock === lock) {
        held.splice(i, 1);
        if (this.ex.tracing) this.ex.event(`-${lock.name}`);
        return;
      }
    }
    this.fail(`bad unlock balance: ${task} releases ${lock.name}, which it does not hold`);
  }

  /** A lock taken by one task and released by another (the folio lock after I/O). */
  releasedBy(owner: Task, lock: LockLike): void {
    this.released(owner, lock);
  }

  taskExit(task: Task): void {
    if (task.held.length > 0) {
      const h = task.held[task.held.length - 1]!;
      this.fail(`lock held when returning to user space: ${task} exited holding ${h.lock.name}, taken at ${siteOf(h)}`);
    }
  }

  private addEdge(task: Task, from: string, to: string, h: HeldLock, mine: HeldLock): void {
    if (this.documented.has(from, to)) return;
    let out = this.graph.get(from);
    if (!out) {
      out = new Map();
      this.graph.set(from, out);
    }
    if (out.has(to)) return;
    const back = this.reaches(to, from) ? this.path(to, from) : undefined;
    if (back) {
      const first = back[0]!;
      const e = first.edge;
      const earlier = e === undefined
        ? `the kernel's documented order (mm/rmap.c, "Lock ordering in mm") takes ${to} before ${first.to}`
        : `earlier ${e.task} took ${first.to} at ${siteOf(e.mine)} while holding ${to} (taken at ${siteOf(e.held)})`;
      this.fail(
        `possible circular locking dependency: ${task} takes ${to} at ${siteOf(mine)} while holding ${from} (taken at ${siteOf(h)}); ${earlier}` +
          (back.length > 1 ? `, via ${back.map((b) => b.to).join(' -> ')}` : ''),
      );
    }
    out.set(to, { held: h, mine, task });
  }

  /** Is there a recorded path from -> ... -> to? Allocates nothing once warm; path() then finds it for the report. */
  private reaches(from: string, to: string): boolean {
    const seen = this.seen;
    const queue = this.queue;
    seen.clear();
    queue.length = 0;
    seen.add(from);
    queue.push(from);
    for (let qi = 0; qi < queue.length; qi++) {
      const n = queue[qi]!;
      const doc = this.documented.after.get(n);
      if (doc) {
        for (let i = 0; i < doc.length; i++) {
          const m = doc[i]!;
          if (m === to) return true;
          if (!seen.has(m)) {
            seen.add(m);
            queue.push(m);
          }
        }
      }
      const out = this.graph.get(n);
      if (!out) continue;
      for (const m of out.keys()) {
        if (m === to) return true;
        if (!seen.has(m)) {
          seen.add(m);
          queue.push(m);
        }
      }
    }
    return false;
  }

  /**
   * A recorded path from -> ... -> to (breadth first; a class's documented
   * successors first, then the ones this run added, each in the order recorded).
   */
  private path(from: string, to: string): { to: string; edge: EdgeOrDoc }[] | undefined {
    const prev = new Map<string, { from: string; edge: EdgeOrDoc } | null>([[from, null]]);
    const queue = [from];
    const found = (m: string): { to: string; edge: EdgeOrDoc }[] => {
      const steps: { to: string; edge: EdgeOrDoc }[] = [];
      for (let c = m; c !== from; ) {
        const p = prev.get(c)!;
        steps.unshift({ to: c, edge: p.edge });
        c = p.from;
      }
      return steps;
    };
    for (let qi = 0; qi < queue.length; qi++) {
      const n = queue[qi]!;
      const doc = this.documented.after.get(n);
      if (doc) {
        for (const m of doc) {
          if (prev.has(m)) continue;
          prev.set(m, { from: n, edge: undefined });
          if (m === to) return found(m);
          queue.push(m);
        }
      }
      const out = this.graph.get(n);
      if (!out) continue;
      for (const [m, edge] of out) {
        if (prev.has(m)) continue;
        prev.set(m, { from: n, edge });
        if (m === to) return found(m);
        queue.push(m);
      }
    }
    return undefined;
  }

  private fail(message: string): never {
    throw new ViolationError({ property: 'lock-order', message, step: this.ex.step, task: this.ex.currentTask?.name });
  }
}
