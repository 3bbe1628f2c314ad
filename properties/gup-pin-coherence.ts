import { report } from '../engine/kernel/current.ts';
import { kobject_freed } from '../engine/mm/kasan.ts';
import { is_huge_zero_pmd, is_zero_pfn, page_folio } from '../engine/mm/mm_types.ts';
import { is_huge_zero_folio, is_zero_folio, pfn_to_page } from '../engine/mm/page_alloc.ts';
import type { RunContext } from '../engine/program/executor.ts';
import { formatOp } from '../engine/program/format.ts';
import { PageAnonExclusive, folio_test_anon } from '../engine/mm/rmap.ts';
import { vma_lookup } from '../engine/mm/mmap.ts';
import { buildOracle } from './oracle/build.ts';
import { mayBeFile } from './oracle/files.ts';
import { cell } from './oracle/cells.ts';
import { coherentAccess, mayBeCoherent, type PinStay } from './oracle/pins.ts';
import { UNMAPPED } from './oracle/timeline.ts';
import type { Property } from './property.ts';
import { forEachHugePmd, forEachPte, mappedAt, pfn_folio, ptLocksHeld } from './walk.ts';

/**
 * A writable present PTE to an anon page maps an exclusive page (seed 003, I);
 * none maps the shared zero page, no PMD the huge zero folio: their contents stay zero.
 */
function checkWritableExclusive(ctx: RunContext): void {
  const zero = ctx.machine.zero_folio;
  if (zero && zero.data.some((v) => v !== 0)) report('gup-pin-coherence', `the shared zero page holds [${zero.data.join(', ')}]: somebody wrote to it`);
  const huge = ctx.machine.huge_zero_folio;
  const dirty = huge?.pages!.find((p) => p.data.some((v) => v !== 0));
  if (dirty) report('gup-pin-coherence', `page ${dirty.pfn} of the huge zero folio holds [${dirty.data.join(', ')}]: somebody wrote to it`);
  for (const mm of ctx.machine.mms) {
    forEachHugePmd(mm, (haddr, pmd) => {
      if (pmd.write && is_huge_zero_pmd(pmd)) report('gup-pin-coherence', `${mm.kname} (${mm.owner}) maps the huge zero folio writable by its PMD at ${haddr}`);
      const folio = pfn_folio(pmd.pfn);
      if (pmd.write && folio_test_anon(folio) && !PageAnonExclusive(folio.pages![0]!)) {
        report('gup-pin-coherence', `${mm.kname} (${mm.owner}) maps THP ${folio.kname} writable by its PMD at ${haddr}, but its head page is not PG_anon_exclusive`);
      }
    });
    forEachPte(mm, (address, pte) => {
      if (pte.kind !== 'present' || !pte.write) return;
      if (is_zero_pfn(pte.pfn)) report('gup-pin-coherence', `${mm.kname} (${mm.owner}) maps the shared zero page writable at ${address}`);
      const folio = pfn_folio(pte.pfn);
      if (folio_test_anon(folio) && !PageAnonExclusive(pfn_to_page(pte.pfn))) {
        report('gup-pin-coherence', `${mm.kname} (${mm.owner}) maps ${folio.kname} writable at ${address}, but it is not PG_anon_exclusive`);
      }
    });
  }
}

/**
 * Every pin the process holds and has not itself detached (munmap, mremap,
 * DONTNEED) still names the page mapped at its address, and that page is
 * PG_anon_exclusive: no COW, fork, swap or migration moved the mapping away
 * from it. Checked for pins already handed to the device (a GUP-fast pin in
 * flight may be let go again), outside PT-lock critical sections.
 */
function checkPinsStillMapped(ctx: RunContext): void {
  for (const space of ctx.spaces) {
    // An address space being torn down (its last user gone: exit, or a
    // sibling's exec) takes its mappings before the devices drop their pins.
    if (space.pins.size === 0 || kobject_freed(space.mm) || space.mm.mm_users === 0) continue;
    for (const [handle, p] of space.pins) {
      if (p.detached) continue;
      if (is_zero_folio(p.folio) || is_huge_zero_folio(page_folio(p.folio))) {
        // A short-term R/O pin of the zero page (or the huge zero folio) need
        // not see later writes; a long-term one in a private mapping must have unshared it.
        const which = is_zero_folio(p.folio) ? 'the shared zero page' : 'the huge zero folio';
        if (p.longterm) report('gup-pin-coherence', `pin#${handle} of P${space.pid} is a long-term R/O pin of ${which} at address ${p.addr}: it will never see what the process writes there`);
        continue;
      }
      const at = mappedAt(space.mm, p.addr);
      const present = at !== undefined && at.pfn >= 0;
      const f = page_folio(p.folio);
      // In a file VMA, truncate zaps even the private COWs of the pages it removes.
      if (!present && vma_lookup(space.mm, p.addr)?.vm_file) continue;
      if (!folio_test_anon(f) && !(present && at.pfn === p.folio.pfn)) {
        // A page-cache page: reclaim may unmap it (a fault maps it again
        // from the file), truncate and hole punch may take it out of the
        // file; a short-term R/O pin does not follow a COW (gup_must_unshare).
        if (!present || !f.f_mapping || (!p.write && !p.longterm)) continue;
      }
      if (present && at.pfn === p.folio.pfn) {
        if (folio_test_anon(f) && !PageAnonExclusive(at.exclusive)) {
          report('gup-pin-coherence', `pin#${handle} of P${space.pid}: ${f.kname}${f.order ? ` (page ${p.folio.pfn})` : ''} is pinned ${f._pincount}x and mapped ${f._mapcount}x but not PG_anon_exclusive`);
        }
        continue;
      }
      report(
        'gup-pin-coherence',
        `pin#${handle} of P${space.pid} (${p.write ? 'R/W' : 'R/O'}) holds pfn ${p.folio.pfn}, but address ${p.addr} now ${at ? `has ${at.text}` : 'has no page table'}: the pinned page and the mapped page diverged`,
      );
    }
  }
}

/**
 * Through data: while the pinned page is mapped at an address (the pinned
 * one, or where mremap moved it), a device read through it returns what
 * that address may hold; once the process detached it, only what the page's
 * addresses could have held until then or what went in through a pin of the
 * same page. No other process's write is ever visible through a pin.
 */
export function checkPinData(ctx: Pick<RunContext, 'history'>): void {
  const recs = ctx.history.records;
  if (!recs.some((r) => r.kind === 'pinRead' && r.result >= 0)) return;
  const { content, pins, bindings } = buildOracle(recs);
  for (const rec of recs) {
    if (rec.kind !== 'pinRead' || rec.result < 0 || rec.addr === undefined) continue;
    const life = pins.get(rec.pinId);
    if (!life) continue;
    // Through a pin of the shared zero page the device reads zeros, whatever the mapping holds later.
    if (life.pinned.kind === 'pin' && life.pinned.zeroPage && rec.value === 0) continue;
    // A pin of a memfd page reads the file's page: data-integrity's files, not judged here.
    if (mayBeFile(bindings, rec.as, rec.addr, 0, rec.end)) continue;
    const at = (stay: PinStay) => content.get(rec.as, cell(stay.addr, rec.op.word));
    const sure = life.stays.find((s) => coherentAccess(s, rec));
    let allowed: Set<number>;
    if (sure) allowed = at(sure).possibleDuring(rec.start, rec.end);
    else {
      // Detached: what its addresses held until then, or went in through a
      // pin of the page; perhaps not (yet): what they hold.
      allowed = new Set<number>();
      for (const s of life.stays) {
        const timeline = at(s);
        if (mayBeCoherent(s, rec)) timeline.possibleDuring(rec.start, rec.end, allowed);
        // Before a move brought the page, the new address held nothing of it.
        for (const e of timeline.events) if (e.start < s.detachEnd && (s.via === undefined || e.end > s.from)) for (const v of e.values) allowed.add(v);
      }
      const addrs = new Set(life.stays.map((s) => s.addr));
      const samePage = (id: number) => pins.get(id)?.stays.some((s) => addrs.has(s.addr)) ?? false;
      for (const w of recs) if (w.kind === 'pinWrite' && w.result >= 0 && w.as === rec.as && w.pinId !== undefined && samePage(w.pinId)) allowed.add(w.value!);
    }
    if (allowed.has(rec.value!)) continue;
    allowed.delete(UNMAPPED);
    const source = recs.find((r) => (r.kind === 'write' || r.kind === 'pinWrite') && r.value === rec.value && r.result >= 0);
    report(
      'gup-pin-coherence',
      `${rec.thread} ${formatOp(rec.op)} (pinned at address ${rec.addr}) read ${rec.value}; allowed: {${[...allowed].join(', ')}}` +
        (source ? `; ${rec.value} was written by ${source.thread} ${formatOp(source.op)} at steps ${source.start}-${source.end}` : ''),
    );
  }
}

export const gupPinCoherence: Property = {
  name: 'gup-pin-coherence',
  description: 'a pinned anon page stays the page mapped at the pinned address until the process itself unmaps it; pinned and mapped => PG_anon_exclusive; writable anon PTE => exclusive',
  afterOp(ctx) {
    if (ptLocksHeld(ctx)) return;
    checkWritableExclusive(ctx);
    checkPinsStillMapped(ctx);
  },
  atEnd: checkPinData,
};
