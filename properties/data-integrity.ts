import { report } from '../engine/kernel/current.ts';
import { EFAULT } from '../engine/program/abi.ts';
import type { RunContext } from '../engine/program/executor.ts';
import type { OpRecord, Range, RecordOf } from '../engine/program/history.ts';
import { formatOp } from '../engine/program/format.ts';
import { buildOracle, buildRights, type Rights } from './oracle/build.ts';
import { mayBeWithinFile } from './oracle/file-sizes.ts';
import { mayBeFile, possibleRead } from './oracle/files.ts';
import { P_READ, P_WRITE, formatProts, mayAllow, mustAllow } from './oracle/prots.ts';
import { badRefReads, isRefRead } from './oracle/refs.ts';
import { UNMAPPED } from './oracle/timeline.ts';
import type { Property } from './property.ts';

/**
 * The user-visible oracle. Per address space and word (per file page and
 * word where a hugetlbfs file is mapped: shared by every process that maps it,
 * kept after munmap, zeroed by hole punch and truncate), a read may return a
 * write that overlapped it or one of the latest writes completed before it;
 * mmap, DONTNEED and WIPEONFORK give zero; a fork's child starts with what the
 * parent held at some point during the fork; mremap moves contents (and a
 * pinned page: the device's later writes through the pin show at the new
 * address, oracle/pins.ts); exec's arguments are what exec wrote; MADV_FREE
 * may give zero until the next write. Nothing else: in particular no value a process wrote after a fork
 * ever reaches the other process, through its memory or through a page
 * reference it took (oracle/refs.ts).
 *
 * And access rights: a read, a write or a pin succeeds only where the page
 * was mapped with the protection it needs (read; write for a write or a R/W
 * pin) at some point while it ran; a read or a write of an anonymous page
 * fails with EFAULT only if the page lacked it at some point.
 */
export function checkDataIntegrity(ctx: Pick<RunContext, 'history'>): void {
  const recs = ctx.history.records;
  // Nothing read: only the access rights to check, and the contents need no replay.
  const oracle = recs.some((r) => isReadOk(r) || isRefRead(r)) ? buildOracle(recs) : undefined;
  if (!oracle && !recs.some(needsRights)) return;
  const rights = oracle ?? buildRights(recs);
  for (const rec of recs) if (isAccess(rec)) checkAccessRights(rights, rec);
  if (!oracle) return;
  const { content, files, bindings } = oracle;
  for (const rec of recs) {
    if (rec.kind !== 'read' || rec.result < 0 || rec.addr === undefined) continue;
    const allowed = possibleRead(content, files, bindings, rec.as, rec.addr!, rec.op.word, rec.start, rec.end);
    if (allowed.has(rec.value!)) continue;
    allowed.delete(UNMAPPED);
    const source = recs.find((r) => (r.kind === 'write' || r.kind === 'pinWrite') && r.value === rec.value && r.result >= 0);
    report(
      'data-integrity',
      `${rec.thread} ${formatOp(rec.op)} (address ${rec.addr}, steps ${rec.start}-${rec.end}) returned ${rec.value}; allowed: {${[...allowed].join(', ')}}` +
        (source ? `; ${rec.value} was written by ${source.thread} ${formatOp(source.op)} at steps ${source.start}-${source.end}` : ''),
    );
  }
  for (const { rec, got, allowed } of badRefReads(recs, content, files, bindings)) {
    report(
      'data-integrity',
      `${rec.thread} ${formatOp(rec.op)} (steps ${rec.start}-${rec.end}) read ${rec.value} through the page reference ${got.thread} ${formatOp(got.op)} took at address ${got.addr} (steps ${got.start}-${got.end}); that address held only {${[...allowed].join(', ')}} meanwhile`,
    );
  }
}

/** A user access through the page tables (or GUP's), with its address resolved. */
type Access = RecordOf<'read' | 'write' | 'pin'> & Range;

function isAccess(rec: OpRecord): rec is Access {
  return (rec.kind === 'read' || rec.kind === 'write' || rec.kind === 'pin') && rec.addr !== undefined;
}

function isReadOk(rec: OpRecord): boolean {
  return rec.kind === 'read' && rec.result >= 0;
}

function needsRights(rec: OpRecord): boolean {
  return isAccess(rec) && (rec.result >= 0 || rec.result === -EFAULT);
}

/**
 * A successful access needs the right at some point during its interval (a
 * racing mprotect may or may not have taken effect); an EFAULT is wrong only
 * if the right held for the whole interval. Hugetlbfs pages may also fail
 * with SIGBUS (beyond the file's end, an empty pool), and pins for other
 * reasons: those failures are not checked.
 */
function checkAccessRights(oracle: Rights, rec: Access): void {
  const op = rec.op;
  const need = op.op === 'write' || (op.op === 'pin' && op.write) ? P_WRITE : P_READ;
  const what = need === P_WRITE ? 'writable' : 'readable';
  const at = `${rec.thread} ${formatOp(op)} (address ${rec.addr}, steps ${rec.start}-${rec.end})`;
  if (rec.result >= 0) {
    const { ok, possible } = mayAllow(oracle.prots, rec.as, rec.addr, need, rec.start, rec.end);
    if (!ok) report('data-integrity', `${at} succeeded, but the page was not mapped ${what} while it ran: protection ${formatProts(possible)}`);
    const within = mayBeWithinFile(oracle.bindings, oracle.sizes, rec.as, rec.addr, rec.start, rec.end);
    if (!within.ok) report('data-integrity', `${at} succeeded, but its memfd page lay beyond the end of the file while it ran: size {${[...within.sizes].join(', ')}} pages`);
    return;
  }
  if (rec.result !== -EFAULT || op.op === 'pin') return;
  if (mayBeFile(oracle.bindings, rec.as, rec.addr, rec.start, rec.end)) return;
  const { possible } = mayAllow(oracle.prots, rec.as, rec.addr, need, rec.start, rec.end);
  if (mustAllow(possible, need)) report('data-integrity', `${at} failed with EFAULT, but the page was mapped ${what} all the while: protection ${formatProts(possible)}`);
}

export const dataIntegrity: Property = {
  name: 'data-integrity',
  description:
    'every read returns a value the user-visible semantics allow: private memory, fork copies, zero-fill, mremap moves, no leak between processes; and an access succeeds or fails with EFAULT as the protection (mmap, mprotect, PROT_NONE) allows',
  atEnd: checkDataIntegrity,
};
