// The kernel's documented lock order (mm/rmap.c's "Lock ordering in mm" block) as
// lockdep's starting graph: built once, read by every run's Lockdep (lockdep.ts).

/** A documented order: chains of lock class names, outermost first (mm/rmap.c's block, as data). */
export type LockOrder = readonly (readonly string[])[];

/**
 * A documented order as lockdep's graph: each class's successors, in the
 * order the chains name them. Built once (a module-level constant of its
 * user) and only read after: every run's Lockdep starts from it.
 */
export class DocumentedOrder {
  readonly after: ReadonlyMap<string, readonly string[]>;

  constructor(order: LockOrder) {
    const after = new Map<string, string[]>();
    for (const chain of order) {
      for (let i = 0; i + 1 < chain.length; i++) {
        const from = chain[i]!;
        const to = chain[i + 1]!;
        let out = after.get(from);
        if (!out) after.set(from, (out = []));
        if (!out.includes(to)) out.push(to);
      }
    }
    this.after = after;
  }

  has(from: string, to: string): boolean {
    return this.after.get(from)?.includes(to) ?? false;
  }
}
