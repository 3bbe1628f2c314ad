import { WORDS_PER_PAGE } from '../../engine/program/abi.ts';
import type { OpRecord, RecordOf } from '../../engine/program/history.ts';
import type { Op } from '../../engine/program/ops.ts';
import { cell, cellsOf, pageOf } from './cells.ts';
import { coherentAccess, mayBeCoherent, pinLives, type PinLife } from './pins.ts';
import { Timelines, UNMAPPED, type TimelineEvent } from './timeline.ts';
import { buildBindings, fileEvents, newFileTimelines, writeTargets } from './files.ts';
import { newProtTimelines, protEvents } from './prots.ts';

const WIPE = 1;
const DONTFORK = 2;

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
  readonly pins: Map<number, PinLife>;
}

/** A derived event: its values come from other timelines, so it is computed to a fixpoint. */
interface Derived {
  apply(): boolean;
}

type MakeEvent = (rec: OpRecord, values: Iterable<number>) => TimelineEvent;

function addAll(into: Set<number>, from: Iterable<number>): boolean {
  const n = into.size;
  for (const v of from) into.add(v);
  return into.size !== n;
}

/** The flags fork and mremap read, as possible during [s, e]; none known means none set. */
function flagsDuring(attrs: Timelines, as: number, page: number, s: number, e: number): Set<number> {
  const fl = attrs.get(as, page).possibleDuring(s, e);
  fl.delete(UNMAPPED);
  if (fl.size === 0) fl.add(0);
  return fl;
}

/**
 * Replay the user-visible history into timelines. Per address space and word,
 * writes (including a device's writes through a pin that is still the page
 * mapped there) set values; mmap, DONTNEED and exec's arguments set known
 * values; munmap unmaps; fork and mremap copy what their source could hold
 * while they ran, computed to a fixpoint because their intervals may overlap.
 */
export function buildOracle(recs: readonly OpRecord[]): Oracle {
  // data-integrity and gup-pin-coherence both read the oracle of a run at its end: build it once.
  const hit = memoFor(recs);
  if (hit) return hit;
  const oracle = replay(recs);
  last = { recs, length: recs.length, oracle };
  return oracle;
}

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

/** An event of `rec`'s interval giving `values`. */
const ev: MakeEvent = (rec, values) => ({ start: rec.start, end: rec.end, values: new Set(values), by: rec });

/** The same, weak when the op may not have done it (a madvise that failed part-way). */
const evMaybe = (rec: OpRecord, values: Iterable<number>, maybe: boolean): TimelineEvent => (maybe ? { ...ev(rec, values), weak: true } : ev(rec, values));

/** What the access-rights check needs. */
export type Rights = Pick<Oracle, 'prots' | 'bindings'>;

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
    const p = protEvents(rec, prots, ev);
    if (p) derived.push(p);
  }
  fixpoint(derived);
  return { prots, bindings: buildBindings(recs, ev) };
}

function isDontfork(r: OpRecord): boolean {
  return r.op.op === 'madvise' && r.op.advice === 'DONTFORK';
}

function fixpoint(derived: readonly Derived[]): void {
  for (let round = 0; round < 16; round++) {
    let changed = false;
    for (const d of derived) if (d.apply()) changed = true;
    if (!changed) break;
  }
}

function replay(recs: readonly OpRecord[]): Oracle {
  const content = new Timelines();
  const files = newFileTimelines();
  const attrs = new Timelines();
  const prots = newProtTimelines();
  const pins = pinLives(recs);
  const derived: Derived[] = [];
  const bindings = buildBindings(recs, ev);

  const dontfork = recs.some(isDontfork) ? mayDontfork(attrs) : undefined;
  for (const rec of recs) {
    const p = protEvents(rec, prots, ev, dontfork);
    if (p) derived.push(p);
    // A failed madvise may have advised part of its range. Over a hole it
    // advises the VMAs it found and says -ENOMEM, and which pages those were
    // depends on what ran beside it (a munmap that has detached a VMA but not
    // yet zapped its pages: a read still sees the old value). And
    // madvise_walk_vmas() stops at the first VMA that fails (-EINVAL: a
    // hugetlb VMA it cannot split off a huge-page boundary), leaving the VMAs
    // before it advised. Either way the advice may or may not have taken.
    const maybe = rec.kind === 'madvise' && rec.result < 0 && rec.addr !== undefined;
    if (rec.result < 0 && !maybe) continue;
    const { as } = rec;
    const r = rec as OpRecord & { addr: number; pages: number };
    const pages = (): number[] => Array.from({ length: r.pages }, (_, i) => r.addr + i);
    const cells = (): number[] => pages().flatMap(cellsOf);
    switch (rec.kind) {
      case 'write': {
        // Into the address space's own memory, or a file page shared with others.
        if (rec.addr === undefined) break;
        const t = writeTargets(bindings, rec, rec.op.word);
        const e = (): TimelineEvent => ({ ...ev(rec, [rec.value]), weak: t.weak });
        if (t.anon) content.get(as, cell(rec.addr, rec.op.word)).add(e());
        for (const f of t.files) files.get(f.file, f.cell).add(e());
        break;
      }
      case 'hugetlbPunch':
      case 'hugetlbTruncate':
        fileEvents(rec, files, ev);
        break;
      case 'pinWrite': {
        if (rec.addr === undefined) break;
        const life = pins.get(rec.pinId);
        const op = rec.op;
        // Certainly into the mapped page; or perhaps, if the process may not
        // have detached the address yet (a concurrent read may see the value,
        // and a move may carry it along), but no longer there once it certainly has.
        if (life && coherentAccess(life, rec)) content.get(as, cell(rec.addr, op.word)).add(ev(rec, [rec.value!]));
        else if (life && mayBeCoherent(life, rec)) {
          const until = life.goneBy === Infinity ? undefined : life.goneBy;
          content.get(as, cell(rec.addr, op.word)).add({ ...ev(rec, [rec.value!]), weak: true, until });
        }
        break;
      }
      case 'mmap':
        for (const c of cells()) content.get(as, c).add(ev(rec, [0]));
        for (const a of pages()) attrs.get(as, a).add(ev(rec, [0]));
        break;
      case 'munmap':
        for (const c of cells()) content.get(as, c).add(ev(rec, [UNMAPPED]));
        for (const a of pages()) attrs.get(as, a).add(ev(rec, [0]));
        break;
      case 'madvise':
        if (rec.op.advice === 'DONTNEED') for (const c of cells()) content.get(as, c).add(evMaybe(rec, [0], maybe));
        else derived.push(madviseAttrs(rec, rec.op, attrs, maybe));
        break;
      case 'exec': {
        if (rec.addr === undefined) break;
        const n = rec.pages;
        for (let j = 0; j < n; j++) {
          for (let w = 0; w < WORDS_PER_PAGE; w++) content.get(rec.newAs, cell(rec.addr + j, w)).add(ev(rec, [w === 0 ? rec.argv[n - 1 - j]! : 0]));
        }
        break;
      }
      case 'mremap':
        derived.push(mremapMove(rec, rec.op, content, attrs, ev));
        break;
      case 'fork':
        if (rec.newAs !== undefined) derived.push(forkCopy(rec, content, attrs, ev));
        break;
    }
  }
  fixpoint(derived);
  return { content, files, bindings, attrs, prots, pins };
}

/** Might the page have been DONTFORK while the fork ran (and so not copied)? */
function mayDontfork(attrs: Timelines): (fork: RecordOf<'fork'>, page: number) => boolean {
  return (fork, page) => {
    for (const f of flagsDuring(attrs, fork.as, page, fork.start, fork.end)) if (f & DONTFORK) return true;
    return false;
  };
}

/**
 * WIPEONFORK / KEEPONFORK / DONTFORK / DOFORK change the flags fork reads.
 * `maybe`: the madvise failed part-way, so its events are weak: they add
 * the new flags without ruling out the old.
 */
function madviseAttrs(rec: RecordOf<'madvise'>, op: Extract<Op, { op: 'madvise' }>, attrs: Timelines, maybe: boolean): Derived {
  const set = op.advice === 'WIPEONFORK' ? WIPE : op.advice === 'DONTFORK' ? DONTFORK : 0;
  const clear = op.advice === 'KEEPONFORK' ? WIPE : op.advice === 'DOFORK' ? DONTFORK : 0;
  const targets = Array.from({ length: rec.pages! }, (_, i) => ({ addr: rec.addr! + i, ev: evMaybe(rec, [], maybe) }));
  for (const t of targets) attrs.get(rec.as, t.addr).add(t.ev);
  return {
    apply(): boolean {
      let changed = false;
      for (const t of targets) {
        // The flags before: anything any other event allowed until this one ended (loose, never wrong).
        const before = new Set<number>();
        for (const e of attrs.get(rec.as, t.addr).events) if (e !== t.ev && e.start <= rec.end) addAll(before, e.values);
        before.delete(UNMAPPED);
        if (before.size === 0) before.add(0);
        if (addAll(t.ev.values, [...before].map((v) => (v | set) & ~clear))) changed = true;
      }
      return changed;
    },
  };
}

/** mremap: the old range's contents (and flags) appear at the new address; grown pages are zero. */
function mremapMove(rec: RecordOf<'mremap'>, op: Extract<Op, { op: 'mremap' }>, content: Timelines, attrs: Timelines, ev: MakeEvent): Derived {
  const oldAddr = rec.addr!;
  const oldPages = rec.pages!;
  const newAddr = rec.newAddr!;
  const targets: { from: number | undefined; to: number; c: TimelineEvent[]; a: TimelineEvent }[] = [];
  for (let i = 0; i < op.pages; i++) {
    const from = i < oldPages ? oldAddr + i : undefined;
    const to = newAddr + i;
    if (from === to) continue; // unchanged in place
    const c = cellsOf(to).map((x) => {
      const e = ev(rec, from === undefined ? [0] : []);
      content.get(rec.as, x).add(e);
      return e;
    });
    const a = ev(rec, []);
    attrs.get(rec.as, to).add(a);
    targets.push({ from, to, c, a });
  }
  // What no longer belongs to the mapping is unmapped; with MREMAP_DONTUNMAP
  // it stays mapped, with its flags, and empty (zero-fill).
  for (let i = 0; i < oldPages; i++) {
    const a = oldAddr + i;
    if (a >= newAddr && a < newAddr + op.pages) continue;
    for (const x of cellsOf(a)) content.get(rec.as, x).add(ev(rec, [op.dontunmap ? 0 : UNMAPPED]));
    if (!op.dontunmap) attrs.get(rec.as, a).add(ev(rec, [0]));
  }
  return {
    apply(): boolean {
      let changed = false;
      for (const t of targets) {
        if (t.from !== undefined) {
          const fromCells = cellsOf(t.from);
          t.c.forEach((e, w) => {
            if (addAll(e.values, content.get(rec.as, fromCells[w]!).possibleDuring(rec.start, rec.end))) changed = true;
          });
        }
        // Grown pages take the VMA's flags: those of its last old page.
        const src = t.from ?? oldAddr + oldPages - 1;
        if (addAll(t.a.values, flagsDuring(attrs, rec.as, src, rec.start, rec.end))) changed = true;
      }
      return changed;
    },
  };
}

/** fork: the child's pages hold what the parent's held at some point during the fork. */
function forkCopy(rec: RecordOf<'fork'>, content: Timelines, attrs: Timelines, ev: MakeEvent): Derived {
  const child = rec.newAs!;
  const cells = new Map<number, TimelineEvent>();
  const pages = new Map<number, TimelineEvent>();
  const made = (m: Map<number, TimelineEvent>, key: number, t: Timelines): TimelineEvent => {
    let e = m.get(key);
    if (!e) {
      m.set(key, (e = ev(rec, [])));
      t.get(child, key).add(e);
    }
    return e;
  };
  return {
    apply(): boolean {
      let changed = false;
      for (const c of content.addresses(rec.as)) {
        const known = cells.has(c);
        const e = made(cells, c, content);
        if (!known) changed = true;
        const values = content.get(rec.as, c).possibleDuring(rec.start, rec.end);
        const out = new Set<number>();
        for (const f of flagsDuring(attrs, rec.as, pageOf(c), rec.start, rec.end)) {
          if (f & DONTFORK) out.add(UNMAPPED);
          else if (f & WIPE) out.add(0);
          else addAll(out, values);
        }
        if (addAll(e.values, out)) changed = true;
      }
      for (const page of attrs.addresses(rec.as)) {
        const known = pages.has(page);
        const e = made(pages, page, attrs);
        if (!known) changed = true;
        if (addAll(e.values, [...flagsDuring(attrs, rec.as, page, rec.start, rec.end)].map((f) => f & ~DONTFORK))) changed = true;
      }
      return changed;
    },
  };
}
