import { report } from '../engine/sched/current.ts';
import type { RunContext } from '../engine/program/executor.ts';
import { formatOp } from '../engine/program/format.ts';
import { buildOracle } from './oracle/build.ts';
import { possibleRead } from './oracle/files.ts';
import { UNMAPPED } from './oracle/timeline.ts';
import type { Property } from './property.ts';

/**
 * The user-visible oracle. Per address space and word (per file page and
 * word where a hugetlbfs file is mapped: shared by every process that maps it,
 * kept after munmap, zeroed by hole punch and truncate), a read may return a
 * write that overlapped it or one of the latest writes completed before it;
 * mmap, DONTNEED and WIPEONFORK give zero; a fork's child starts with what the
 * parent held at some point during the fork; mremap moves contents; exec's
 * arguments are what exec wrote. Nothing else: in particular no value a
 * process wrote after a fork ever reaches the other process.
 */
export function checkDataIntegrity(ctx: RunContext): void {
  const recs = ctx.history.records;
  if (!recs.some((r) => r.op.op === 'read' && r.result >= 0)) return;
  const { content, files, bindings } = buildOracle(recs);
  for (const rec of recs) {
    if (rec.op.op !== 'read' || rec.result < 0) continue;
    const allowed = possibleRead(content, files, bindings, rec.as, rec.addr!, rec.op.word, rec.start, rec.end);
    if (allowed.has(rec.value!)) continue;
    allowed.delete(UNMAPPED);
    const source = recs.find((r) => (r.op.op === 'write' || r.op.op === 'pinWrite') && r.value === rec.value && r.result >= 0);
    report(
      'data-integrity',
      `${rec.thread} ${formatOp(rec.op)} (address ${rec.addr}, steps ${rec.start}-${rec.end}) returned ${rec.value}; allowed: {${[...allowed].join(', ')}}` +
        (source ? `; ${rec.value} was written by ${source.thread} ${formatOp(source.op)} at steps ${source.start}-${source.end}` : ''),
    );
  }
}

export const dataIntegrity: Property = {
  name: 'data-integrity',
  description: 'every read returns a value the user-visible semantics allow: private memory, fork copies, zero-fill, mremap moves, no leak between processes',
  atEnd: checkDataIntegrity,
};
