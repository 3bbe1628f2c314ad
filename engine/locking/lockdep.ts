import type { Execution } from '../sched/execution.ts';
import { siteOf, type HeldLock, type Task } from '../sched/task.ts';
import { ViolationError } from '../sched/violation.ts';
import type { LockLike } from './lock-class.ts';

interface Edge {
  /** Where the first lock of the pair was taken, and where the second. */
  readonly heldSite: string;
  readonly site: string;
  readonly task: string;
  /** Seeded from the kernel's documented order, not seen in this run. */
  readonly documented?: true;
}

/** A documented order: chains of lock class names, outermost first (mm/rmap.c's block, as data). */
export type LockOrder = readonly (readonly string[])[];

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
  private readonly graph = new Map<string, Map<string, Edge>>();

  constructor(
    private readonly ex: Execution,
    order: LockOrder = [],
  ) {
    for (const chain of order) {
      for (let i = 0; i + 1 < chain.length; i++) this.seed(chain[i]!, chain[i + 1]!);
    }
  }

  private seed(from: string, to: string): void {
    let out = this.graph.get(from);
    if (!out) {
      out = new Map();
      this.graph.set(from, out);
    }
    out.set(to, DOCUMENTED);
  }

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
    this.ex.event(`+${lock.name}${read ? '(r)' : ''}`);
  }

  released(task: Task, lock: LockLike): void {
    const held = task.held;
    for (let i = held.length - 1; i >= 0; i--) {
      if (held[i]!.lock === lock) {
        held.splice(i, 1);
        this.ex.event(`-${lock.name}`);
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
    let out = this.graph.get(from);
    if (!out) {
      out = new Map();
      this.graph.set(from, out);
    }
    if (out.has(to)) return;
    const heldSite = siteOf(h);
    const site = siteOf(mine);
    const back = this.path(to, from);
    if (back) {
      const first = back[0]!;
      const earlier = first.edge.documented
        ? `the kernel's documented order (mm/rmap.c, "Lock ordering in mm") takes ${to} before ${first.to}`
        : `earlier ${first.edge.task} took ${first.to} at ${first.edge.site} while holding ${to} (taken at ${first.edge.heldSite})`;
      this.fail(
        `possible circular locking dependency: ${task} takes ${to} at ${site} while holding ${from} (taken at ${heldSite}); ${earlier}` +
          (back.length > 1 ? `, via ${back.map((b) => b.to).join(' -> ')}` : ''),
      );
    }
    out.set(to, { heldSite, site, task: task.toString() });
  }

  /** A recorded path from -> ... -> to (breadth first, in insertion order). */
  private path(from: string, to: string): { to: string; edge: Edge }[] | undefined {
    const prev = new Map<string, { from: string; edge: Edge } | null>([[from, null]]);
    const queue = [from];
    for (let qi = 0; qi < queue.length; qi++) {
      const n = queue[qi]!;
      const out = this.graph.get(n);
      if (!out) continue;
      for (const [m, edge] of out) {
        if (prev.has(m)) continue;
        prev.set(m, { from: n, edge });
        if (m === to) {
          const steps: { to: string; edge: Edge }[] = [];
          for (let c = m; c !== from; ) {
            const p = prev.get(c)!;
            steps.unshift({ to: c, edge: p.edge });
            c = p.from;
          }
          return steps;
        }
        queue.push(m);
      }
    }
    return undefined;
  }

  private fail(message: string): never {
    throw new ViolationError({ property: 'lock-order', message, step: this.ex.step, task: this.ex.currentTask?.name });
  }
}

const DOCUMENTED: Edge = { heldSite: 'mm/rmap.c', site: 'mm/rmap.c', task: 'the documented order', documented: true };

/**
 * The kernel-path frames of the JS stack, innermost first:
 * `anon_vma_fork <- dup_mmap <- copy_process`. Used in debug (report) mode.
 */
export function kernelStack(): string {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = saved;
  const names: string[] = [];
  for (const line of stack.split('\n')) {
    const m = /^\s+at (?:Generator\.next \()?(?:[\w$.]+\.)?([\w$]+) \((.*)\)$/.exec(line);
    if (!m || !/engine\/(mm|kernel|fs|program)\//.test(m[2]!)) continue;
    names.push(m[1]!);
  }
  return names.length > 0 ? names.join(' <- ') : '(no kernel frames)';
}
