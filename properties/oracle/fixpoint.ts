/**
 * Derived events (a fork's or an mremap's copies, the flags a madvise sets
 * on top of the old ones) take their values from other timelines, which may
 * themselves be derived: they are recomputed together until nothing changes.
 */
export interface Derived {
  /** Grow this step's events from their sources; true if any grew. */
  apply(): boolean;
  /** How many events it grows. */
  readonly size: number;
}

/** The oracle's own bug, not a property violation: its derived events did not settle. */
export class OracleNotConverged extends Error {
  constructor(rounds: number, events: number) {
    super(`the oracle did not settle in ${rounds} rounds over ${events} derived events: a bug in properties/oracle; report it with the program and schedule`);
    this.name = 'OracleNotConverged';
  }
}

/**
 * Apply every step until a round changes nothing. Values only grow, and a
 * value reaches an event through a chain of distinct derived events, at
 * least one link per round; a flag that arrives late (fork reads "no flags
 * known" as none set) can start one more wave. So twice as many rounds as
 * there are derived events, without settling, means a step that does not
 * just grow its events.
 */
export function fixpoint(derived: readonly Derived[]): void {
  if (derived.length === 0) return;
  for (let round = 1; ; round++) {
    let changed = false;
    let events = 0;
    for (const d of derived) {
      if (d.apply()) changed = true;
      events += d.size;
    }
    if (!changed) return;
    if (round > 2 * events + 2) throw new OracleNotConverged(round, events);
  }
}
