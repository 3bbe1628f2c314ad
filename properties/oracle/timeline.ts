import type { OpRecord } from '../../engine/program/history.ts';

/** A token for "this address is not mapped": a successful read never returns it. */
export const UNMAPPED = -1;

/** Something that set an address's possible contents over [start, end]. */
export interface TimelineEvent {
  readonly start: number;
  readonly end: number;
  readonly values: Set<number>;
  /** The op that set it (undefined for a file's initial zeroes). Formatted only if a message needs it. */
  readonly by?: OpRecord;
  /**
   * It may not have happened here at all (a write whose mapping was being
   * replaced while it ran): it adds its values but supersedes nothing.
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
    let superseding = -Infinity;
    for (const ev of this.events) if (ev.end <= s && ev.start > superseding && !ev.weak && (skip === undefined || ev.by !== skip)) superseding = ev.start;
    let any = false;
    for (const ev of this.events) {
      if (skip !== undefined && ev.by === skip) continue;
      if (ev.until !== undefined && s >= ev.until) continue;
      const overlaps = ev.start < e && ev.end > s;
      // Completed before, and not followed by another completed event that began after it ended.
      const latest = ev.end <= s && ev.end > superseding;
      if (overlaps || latest) {
        for (const v of ev.values) into.add(v);
        any = true;
      }
    }
    // Nothing had happened here: the address was never mapped.
    if (!any) into.add(UNMAPPED);
    return into;
  }

  /** The event that gave `value`, for provenance in messages. */
  whoGave(value: number): TimelineEvent | undefined {
    return this.events.find((ev) => ev.values.has(value));
  }
}

/** Timelines per address space and address. */
export class Timelines {
  private readonly map = new Map<number, Map<number, Timeline>>();

  /** With `initial`, every timeline starts out holding it (a file's pages read zero until written). */
  constructor(private readonly initial?: TimelineEvent) {}

  get(as: number, addr: number): Timeline {
    let m = this.map.get(as);
    if (!m) this.map.set(as, (m = new Map()));
    let t = m.get(addr);
    if (!t) {
      m.set(addr, (t = new Timeline()));
      if (this.initial) t.add(this.initial);
    }
    return t;
  }

  /** Addresses with any history in `as`, ascending. */
  addresses(as: number): number[] {
    return [...(this.map.get(as)?.keys() ?? [])].sort((a, b) => a - b);
  }
}
