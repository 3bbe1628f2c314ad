/**
 * A lockdep lock class: every lock of one kind (all mmap_locks, all PT locks)
 * shares one. Nesting subclasses tell lockdep that taking two locks of one class
 * is deliberate (SINGLE_DEPTH_NESTING for the source and destination PT locks
 * in copy_pte_range, say).
 */
export class LockClass {
  private static readonly registry = new Map<string, LockClass>();
  private readonly keys: string[] = [];

  private constructor(readonly name: string) {}

  static get(name: string): LockClass {
    let c = LockClass.registry.get(name);
    if (!c) {
      c = new LockClass(name);
      LockClass.registry.set(name, c);
    }
    return c;
  }

  /** The lockdep graph node for this class at a subclass: `anon_vma->rwsem/1`. */
  key(subclass: number): string {
    return (this.keys[subclass] ??= subclass === 0 ? this.name : `${this.name}/${subclass}`);
  }
}

export const SINGLE_DEPTH_NESTING = 1;

/** What every lock primitive exposes to lockdep and to the wait-for graph. */
export interface LockLike {
  readonly name: string;
  readonly lockClass: LockClass;
}
