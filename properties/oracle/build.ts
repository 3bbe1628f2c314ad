import type { OpRecord } from '../../engine/program/history.ts';
import { mayDontfork } from './attrs.ts';
import { contentEvents, stackGrowth } from './content.ts';
import { fixpoint, type Derived } from './fixpoint.ts';
import { buildSizes, fileEvents, truncateCopies } from './file-sizes.ts';
import { buildBindings, newFileTimelines } from './files.ts';
import { pinLives, type PinLife } from './pins.ts';
import { newProtTimelines, protEvents } from './prots.ts';
import { Timelines } from './timeline.ts';

/*
 * The user-visible oracle of a run, replayed from its op records alone (the
 * records and the program language's ABI, engine/program/abi.ts: nothing of
 * the model itself). Per address space and address, timelines of what the
 * address may hold (content.ts), which file page it maps (files.ts), the
 * flags fork reads (attrs.ts) and its protection (prots.ts); fork and
 * mremap copy between them (copy.ts), computed to one fixpoint
 * (fixpoint.ts) because their intervals may overlap.
 */

/** What user space may observe: contents per cell, fork-relevant flags per page. */
export interface Oracle {
  readonly content: Timelines;
  /** Contents of hugetlbfs file pages, per (file, file cell): shared by every process that maps them. */
  readonly files: Timelines;
  /** Per (address space, page): anonymous memory (NOT_FILE) or which file page is mapped there; undefined when no file was mapped. */
  readonly bindings: Timelines | undefined;
  readonly attrs: Timelines;
  /** Per (address space, page): the protection it was mapped with (prots.ts). */
  readonly prots: Timelines;
  /** Per memfd: its size in pages over time; undefined when no memfd was mapped. */
  readonly sizes: Timelines | undefined;
  readonly pins: Map<number, PinLife>;
}

/** What the access-rights check needs. */
export type Rights = Pick<Oracle, 'prots' | 'bindings' | 'sizes'>;

/**
 * The last run's oracle. One slot, not a WeakMap keyed by the records: the
 * scavenger kept the WeakMap's young entries alive, so each run's oracle was
 * promoted to the old generation and left for a mark-compact. Measured with
 * --trace-gc-nvp, data-integrity alone promoted 12 KB per run that way, and
 * the campaign ran 1.3x faster without it.
 */
let last: { recs: readonly OpRecord[]; length: number; oracle: Oracle } | undefined;

function memoFor(recs: readonly OpRecord[]): Oracle | undefined {
  return last?.recs === recs && last.length === recs.length ? last.oracle : undefined;
}

/** data-integrity and gup-pin-coherence both read the oracle of a run at its end: it is built once. */
export function buildOracle(recs: readonly OpRecord[]): Oracle {
  const hit = memoFor(recs);
  if (hit) return hit;
  const oracle = replay(recs);
  last = { recs, length: recs.length, oracle };
  return oracle;
}

/**
 * The protections alone, for a run with no read to judge: without a
 * DONTFORK they need nothing else, so the contents are not replayed.
 */
export function buildRights(recs: readonly OpRecord[]): Rights {
  const hit = memoFor(recs);
  if (hit) return hit;
  if (recs.some(isDontfork)) return buildOracle(recs);
  const prots = newProtTimelines();
  const derived: Derived[] = [];
  for (const rec of recs) {
    const p = protEvents(rec, prots);
    if (p) derived.push(p);
  }
  fixpoint(derived);
  return { prots, bindings: buildBindings(recs), sizes: buildSizes(recs) };
}

function isDontfork(r: OpRecord): boolean {
  return r.kind === 'madvise' && r.op.advice === 'DONTFORK';
}

function replay(recs: readonly OpRecord[]): Oracle {
  const attrs = new Timelines();
  const t = { content: new Timelines(), files: newFileTimelines(), bindings: buildBindings(recs), attrs, pins: pinLives(recs) };
  const prots = newProtTimelines();
  const derived: Derived[] = [];
  const dontfork = recs.some(isDontfork) ? mayDontfork(attrs) : undefined;
  for (const rec of recs) {
    const p = protEvents(rec, prots, dontfork);
    if (p) derived.push(p);
    // A failed madvise may have advised part of its range. Over a hole it
    // advises the VMAs it found and says -ENOMEM, and which pages those were
    // depends on what ran beside it (a munmap that has detached a VMA but not
    // yet zapped its pages: a read still sees the old value). And
    // madvise_walk_vmas() stops at the first VMA that fails (-EINVAL: a
    // hugetlb VMA it cannot split off a huge-page boundary), leaving the VMAs
    // before it advised. Either way the advice may or may not have taken.
    const maybe = rec.kind === 'madvise' && rec.result < 0 && rec.addr !== undefined;
    if (rec.result < 0 && !maybe) {
      // A failed access may have grown a stack before it failed.
      if ((rec.kind === 'read' || rec.kind === 'write') && rec.grown) derived.push(...stackGrowth(rec, rec.grown, t.content, attrs));
      continue;
    }
    if (rec.kind === 'hugetlbPunch' || rec.kind === 'hugetlbTruncate' || rec.kind === 'memfdPunch' || rec.kind === 'memfdTruncate') {
      fileEvents(rec, t.files);
      truncateCopies(rec, t.bindings, t.content);
    }
    else for (const d of contentEvents(rec, t, maybe)) derived.push(d);
  }
  fixpoint(derived);
  return { ...t, prots, sizes: buildSizes(recs) };
}
