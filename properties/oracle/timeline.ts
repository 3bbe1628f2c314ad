import type { OpRecord } from '../../engine/program/history.ts';

/** A token for "this address is not mapped": a successful read never returns it. */
export const UNMAPPED = -1;

/** Something that set an address's possible values over [start, end]. */
export interface TimelineEvent {
  readonly start: number;
  readonly end: number;
  /** Grown only by a copy step (copy.ts) until the fixpoint; never changed after. */
  readonly values: Set<number>;
  /** The op that set it (undefined for a timeline's initial value). */
  readonly by?: OpRecord;
  /**
   * It may not have happened here at all (a write whose mapping was being
   * replaced while it ran, an op that failed part-way): it adds its values
   * but supersedes nothing.
   */
  readonly weak?: boolean;
  /**
   * Gone from here by this step (a device's write through a pin into a page
   * the process was detaching from the address): an access that begins at or
   * after it does not see the event's values.
   */
  readonly until?: number;
}

/**
 * The one event maker: `rec`'s interval giving `values`. An event may be
 * shared by every address the op set alike (only a copy step's own events
 * are ever grown, and those are one per address).
 */
export function event(rec: OpRecord, values: Iterable<number>, weak = false, until?: number): TimelineEvent {
  const e: TimelineEvent = { start: rec.start, end: rec.end, values: new Set(values), by: rec };
  if (!weak && until === undefined) return e;
  return until === undefined ? { ...e, weak } : { ...e, weak, until };
}

/** What every timeline of a kind holds before any op (a file page reads zero; a page is unmapped). */
export function initially(value: number): TimelineEvent {
  return { start: -2, end: -1, values: new Set([value]) };
}

/**
 * The history of one address in one address space: events with step
 * intervals, each giving a set of possible values. What the address may hold
 * during [s, e] is what any event overlapping [s, e] set, plus what the
 * latest completed events before s set (any of them, if they overlap each
 * other): the linearizability window of every access.
 */
export class Timeline {
  readonly events: TimelineEvent[] = [];

  add(ev: TimelineEvent): void {
    this.events.push(ev);
  }

  /** `skip`: leave out the events of this op (what an op itself does is not what it saw). */
  possibleDuring(s: number, e: number, into: Set<number> = new Set(), skip?: OpRecord): Set<number> {
    // Steps are atomic and each belongs to one task, so two ops share a step
    // only as consecutive ops of one thread (one ends where the next begins):
    // an event with end <= s completed before the access began.
    const events = this.events;
    let superseding = -Infinity;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (ev.end <= s && ev.start > superseding && !ev.weak && (skip === undefined || ev.by !== skip)) superseding = ev.start;
    }
    let any = false;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (skip !== undefined && ev.by === skip) continue;
      if (ev.until !== undefined && s >= ev.until) continue;
      // Overlapping; or completed before, and not followed by another completed event that began after it ended.
      if ((ev.start < e && ev.end > s) || (ev.end <= s && ev.end > superseding)) {
        for (const v of ev.values) into.add(v);
        any = true;
      }
    }
    // Nothing had happened here, or nothing had yet certainly happened: what
    // the address held before its first events (never mapped) is still
    // possible while they overlap the access (an mmap that ran beside a fork
    // may or may not have been copied to the child: dup_mmap and mmap both
    // hold the parent's mmap_lock for write, and only the lock order, not the
    // op records, says which came first).
    if (!any || superseding === -Infinity) into.add(UNMAPPED);
    return into;
  }
}

/**
 * Timelines per address space (or file) and address. (Not arrays indexed by
 * address: mmap places regions high, and an array's first store at index
 * 400 allocates room for 600.)
 */
export class Timelines {
  private readonly spaces = new Map<number, Map<number, Timeline>>();

  /** With `initial`, every timeline starts out holding it. */
  constructor(private readonly initial?: TimelineEvent) {}

  get(as: number, addr: number): Timeline {
    let space = this.spaces.get(as);
    if (!space) this.spaces.set(as, (space = new Map()));
    let t = space.get(addr);
    if (!t) {
      space.set(addr, (t = new Timeline()));
      if (this.initial) t.add(this.initial);
    }
    return t;
  }

  /** Address spaces (or files) with any history, ascending. */
  spaceIds(): number[] {
    return [...this.spaces.keys()].sort((a, b) => a - b);
  }

  /** How many addresses have any history in `as`. */
  count(as: number): number {
    return this.spaces.get(as)?.size ?? 0;
  }

  /** Addresses with any history in `as`, ascending. */
  addresses(as: number): number[] {
    const space = this.spaces.get(as);
    return space ? [...space.keys()].sort((a, b) => a - b) : [];
  }
}
