import type { OpRecord, Range, RecordOf } from '../../engine/program/history.ts';
import type { Derived } from './fixpoint.ts';
import { event, type Timeline, type TimelineEvent, type Timelines } from './timeline.ts';

/*
 * The one "copy during an op" step. fork gives the child what each of the
 * parent's addresses may have held while the fork ran; mremap gives the new
 * address what the old one may have held while the mremap ran. Both are
 * derived: the source may itself be a copy, so every copy is grown to the
 * oracle's fixpoint (fixpoint.ts).
 */

/** What a copy passes on of the source's possible values (fork's flags, DONTFORK); `addr` is the source address. */
export type Through = (seen: Set<number>, addr: number) => Iterable<number>;

interface Link {
  readonly src: Timeline;
  readonly dst: TimelineEvent;
  readonly addr: number;
}

/** A fork that made a child, an mremap that succeeded: what their copies need. */
export type Forked = RecordOf<'fork'> & { readonly newAs: number };
export type Moved = RecordOf<'mremap'> & Range & { readonly newAddr: number };

export function forked(r: RecordOf<'fork'>): r is Forked {
  return r.newAs !== undefined;
}

export function moved(r: RecordOf<'mremap'>): r is Moved {
  return r.addr !== undefined && r.newAddr !== undefined;
}

export function addAll(into: Set<number>, from: Iterable<number>): boolean {
  const n = into.size;
  for (const v of from) into.add(v);
  return into.size !== n;
}

export class CopyDuring implements Derived {
  private readonly links: Link[] = [];

  /** `skipSelf`: the source's events of `rec` itself are not what it copied (mremap's own unmapping of the old page). */
  constructor(
    readonly rec: OpRecord,
    private readonly through?: Through,
    private readonly skipSelf = false,
  ) {}

  get size(): number {
    return this.links.length;
  }

  /** A new event of the op on `dst`, to hold what `src` (at `addr`) held during it. */
  link(src: Timeline, dst: Timeline, addr: number): void {
    const e = event(this.rec, []);
    dst.add(e);
    this.links.push({ src, dst: e, addr });
  }

  apply(): boolean {
    const { rec, through } = this;
    const skip = this.skipSelf ? rec : undefined;
    let changed = false;
    for (const l of this.links) {
      const into = l.dst.values;
      const n = into.size;
      // Without a mapping the source's values go straight in.
      if (!through) l.src.possibleDuring(rec.start, rec.end, into, skip);
      else addAll(into, through(l.src.possibleDuring(rec.start, rec.end, undefined, skip), l.addr));
      if (into.size !== n) changed = true;
    }
    return changed;
  }
}

/**
 * fork: every address of the parent in `timelines` gets a copy in the child.
 * Which addresses the parent has is itself found at the fixpoint (the parent
 * may be a child whose own copies are still being made).
 */
export function forkCopy(rec: Forked, timelines: Timelines, through?: Through): Derived {
  const copy = new CopyDuring(rec, through);
  const known = new Set<number>();
  // A plain field, not a getter: V8 kept every object literal with an
  // accessor (and all it reached) through two scavenges, promoting 12 KB of
  // each run's oracle to the old generation (--trace-gc-nvp).
  const d = {
    size: 0,
    apply(): boolean {
      let made = false;
      // Addresses are only ever added: with none new since the last round, every one is linked already.
      if (timelines.count(rec.as) === known.size) return copy.apply();
      for (const a of timelines.addresses(rec.as)) {
        if (known.has(a)) continue;
        known.add(a);
        made = true;
        copy.link(timelines.get(rec.as, a), timelines.get(rec.newAs, a), a);
      }
      d.size = copy.size;
      return copy.apply() || made;
    },
  };
  return d;
}
