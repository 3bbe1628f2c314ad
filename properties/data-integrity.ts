import { report } from '../engine/sched/current.ts';
import { argValue } from '../engine/fs/exec.ts';
import { WORDS_PER_PAGE } from '../engine/mm/mm_types.ts';
import type { OpRecord } from '../engine/program/history.ts';
import type { Op } from '../engine/program/ops.ts';
import type { RunContext } from '../engine/program/executor.ts';
import { formatOp } from '../engine/program/format.ts';
import type { Property } from './property.ts';
import { Timelines, UNMAPPED } from './oracle/timeline.ts';

const WIPE = 1;
const DONTFORK = 2;

/** Contents are tracked per word: a cell is (address, word). Attributes per page. */
function cell(addr: number, word: number): number {
  return addr * WORDS_PER_PAGE + word;
}

function cellsOf(addr: number): number[] {
  return Array.from({ length: WORDS_PER_PAGE }, (_, w) => cell(addr, w));
}

function pageOf(c: number): number {
  return Math.floor(c / WORDS_PER_PAGE);
}

/** A derived event: its values come from other timelines, so it is computed to a fixpoint. */
interface Derived {
  readonly rec: OpRecord;
  /** Fills the target timelines' value sets; true if anything was added. */
  apply(): boolean;
}

function addAll(into: Set<number>, from: Iterable<number>): boolean {
  const n = into.size;
  for (const v of from) into.add(v);
  return into.size !== n;
}

/**
 * The user-visible oracle. Per address space and page, a read may return a
 * write that overlapped it or one of the latest writes completed before it;
 * mmap, DONTNEED and WIPEONFORK give zero; a fork's child starts with what the
 * parent held at some point during the fork; mremap moves contents; exec's
 * arguments are what exec wrote. Nothing else: in particular no value a
 * process wrote after a fork ever reaches the other process.
 */
export function checkDataIntegrity(ctx: RunContext): void {
  const recs = ctx.history.records;
  const content = new Timelines();
  const attrs = new Timelines();
  const derived: Derived[] = [];
  const ev = (rec: OpRecord, values: Iterable<number>) => ({ start: rec.start, end: rec.end, values: new Set(values), what: `${rec.thread} ${formatOp(rec.op)}` });

  // Primary events: their values are known from the record alone.
  for (const rec of recs) {
    if (rec.result < 0) continue;
    const { op, as } = rec;
    const pages = (from = rec.addr!, n = rec.pages!): number[] => Array.from({ length: n }, (_, i) => from + i);
    const cells = (from = rec.addr!, n = rec.pages!): number[] => pages(from, n).flatMap(cellsOf);
    switch (op.op) {
      case 'write':
        content.get(as, cell(rec.addr!, op.word)).add(ev(rec, [rec.value!]));
        break;
      case 'mmap':
        for (const c of cells()) content.get(as, c).add(ev(rec, [0]));
        for (const a of pages()) attrs.get(as, a).add(ev(rec, [0]));
        break;
      case 'munmap':
        for (const c of cells()) content.get(as, c).add(ev(rec, [UNMAPPED]));
        for (const a of pages()) attrs.get(as, a).add(ev(rec, [0]));
        break;
      case 'madvise':
        if (op.advice === 'DONTNEED') for (const c of cells()) content.get(as, c).add(ev(rec, [0]));
        else derived.push(madviseAttrs(rec, attrs, ev(rec, [])));
        break;
      case 'exec': {
        const n = rec.pages!;
        for (let j = 0; j < n; j++) {
          for (let w = 0; w < WORDS_PER_PAGE; w++) content.get(rec.newAs!, cell(rec.addr! + j, w)).add(ev(rec, [w === 0 ? argValue(n - 1 - j) : 0]));
        }
        break;
      }
      case 'mremap':
        derived.push(mremapMove(rec, content, attrs, ev));
        break;
      case 'fork':
        if (rec.newAs !== undefined) derived.push(forkCopy(rec, content, attrs, ev));
        break;
    }
  }
  for (let round = 0; round < 16; round++) {
    let changed = false;
    for (const d of derived) if (d.apply()) changed = true;
    if (!changed) break;
  }
  for (const rec of recs) {
    if (rec.op.op !== 'read' || rec.result < 0) continue;
    const allowed = content.get(rec.as, cell(rec.addr!, rec.op.word)).possibleDuring(rec.start, rec.end);
    if (!allowed.has(rec.value!)) {
      allowed.delete(UNMAPPED);
      const source = recs.find((r) => r.op.op === 'write' && r.value === rec.value && r.result >= 0);
      report(
        'data-integrity',
        `${rec.thread} ${formatOp(rec.op)} (address ${rec.addr}, steps ${rec.start}-${rec.end}) returned ${rec.value}; allowed: {${[...allowed].join(', ')}}` +
          (source ? `; ${rec.value} was written by ${source.thread} ${formatOp(source.op)} at steps ${source.start}-${source.end}` : ''),
      );
    }
  }
}

/** WIPEONFORK / KEEPONFORK / DONTFORK / DOFORK change the attributes fork reads. */
function madviseAttrs(rec: OpRecord, attrs: Timelines, template: { start: number; end: number; what: string }): Derived {
  const advice = rec.op.op === 'madvise' ? rec.op.advice : 'DONTNEED';
  const set = advice === 'WIPEONFORK' ? WIPE : advice === 'DONTFORK' ? DONTFORK : 0;
  const clear = advice === 'KEEPONFORK' ? WIPE : advice === 'DOFORK' ? DONTFORK : 0;
  const targets = Array.from({ length: rec.pages! }, (_, i) => {
    const t = { ...template, values: new Set<number>() };
    return { addr: rec.addr! + i, ev: t };
  });
  for (const t of targets) attrs.get(rec.as, t.addr).add(t.ev);
  return {
    rec,
    apply(): boolean {
      let changed = false;
      for (const t of targets) {
        // The flags before this madvise: what the other events allow just before it.
        const before = new Set<number>();
        for (const e of attrs.get(rec.as, t.addr).events) {
          if (e === t.ev) continue;
          if (e.start <= rec.end) for (const v of e.values) before.add(v);
        }
        if (before.size === 0) before.add(0);
        const after = [...before].map((v) => (v | set) & ~clear);
        if (addAll(t.ev.values, after)) changed = true;
      }
      return changed;
    },
  };
}

/** mremap: the old range's contents (and flags) appear at the new address. */
function mremapMove(
  rec: OpRecord,
  content: Timelines,
  attrs: Timelines,
  ev: (rec: OpRecord, values: Iterable<number>) => { start: number; end: number; values: Set<number>; what: string },
): Derived {
  const op = rec.op as Extract<Op, { op: 'mremap' }>;
  const oldAddr = rec.addr!;
  const oldPages = rec.pages!;
  const newAddr = rec.newAddr!;
  const newPages = op.pages;
  const targets: { from: number | undefined; to: number; c: ReturnType<typeof ev>[]; a: ReturnType<typeof ev> }[] = [];
  for (let i = 0; i < newPages; i++) {
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
  // What no longer belongs to the mapping is unmapped.
  for (let i = 0; i < oldPages; i++) {
    const a = oldAddr + i;
    if (a >= newAddr && a < newAddr + newPages) continue;
    for (const x of cellsOf(a)) content.get(rec.as, x).add(ev(rec, [UNMAPPED]));
    attrs.get(rec.as, a).add(ev(rec, [0]));
  }
  return {
    rec,
    apply(): boolean {
      let changed = false;
      for (const t of targets) {
        const src = t.from ?? oldAddr + oldPages - 1; // grown pages take the VMA's flags
        if (t.from !== undefined) {
          const fromCells = cellsOf(t.from);
          t.c.forEach((e, w) => {
            if (addAll(e.values, content.get(rec.as, fromCells[w]!).possibleDuring(rec.start, rec.end))) changed = true;
          });
        }
        const fl = attrs.get(rec.as, src).possibleDuring(rec.start, rec.end);
        fl.delete(UNMAPPED);
        if (fl.size === 0) fl.add(0);
        if (addAll(t.a.values, fl)) changed = true;
      }
      return changed;
    },
  };
}

/** fork: the child's pages hold what the parent held at some point during the fork. */
function forkCopy(
  rec: OpRecord,
  content: Timelines,
  attrs: Timelines,
  ev: (rec: OpRecord, values: Iterable<number>) => { start: number; end: number; values: Set<number>; what: string },
): Derived {
  const child = rec.newAs!;
  const madeCells = new Map<number, ReturnType<typeof ev>>();
  const madePages = new Map<number, ReturnType<typeof ev>>();
  const flagsDuring = (page: number): Set<number> => {
    const fl = attrs.get(rec.as, page).possibleDuring(rec.start, rec.end);
    fl.delete(UNMAPPED);
    if (fl.size === 0) fl.add(0);
    return fl;
  };
  return {
    rec,
    apply(): boolean {
      let changed = false;
      for (const c of content.addresses(rec.as)) {
        let e = madeCells.get(c);
        if (!e) {
          madeCells.set(c, (e = ev(rec, [])));
          content.get(child, c).add(e);
          changed = true;
        }
        const values = content.get(rec.as, c).possibleDuring(rec.start, rec.end);
        const out = new Set<number>();
        for (const f of flagsDuring(pageOf(c))) {
          if (f & DONTFORK) out.add(UNMAPPED);
          else if (f & WIPE) out.add(0);
          else for (const v of values) out.add(v);
        }
        if (addAll(e.values, out)) changed = true;
      }
      for (const page of attrs.addresses(rec.as)) {
        let e = madePages.get(page);
        if (!e) {
          madePages.set(page, (e = ev(rec, [])));
          attrs.get(child, page).add(e);
          changed = true;
        }
        if (addAll(e.values, [...flagsDuring(page)].map((f) => f & ~DONTFORK))) changed = true;
      }
      return changed;
    },
  };
}

export const dataIntegrity: Property = {
  name: 'data-integrity',
  description: 'every read returns a value the user-visible semantics allow: private memory, fork copies, zero-fill, mremap moves, no leak between processes',
  atEnd: checkDataIntegrity,
};
