import fc from 'fast-check';
import { HPAGE_PMD_NR, WORDS_PER_PAGE } from '../engine/mm/mm_types.ts';
import type { Op, OpKind } from '../engine/program/ops.ts';
import { hugetlbOpArb, memfdOpArb } from './file-ops.ts';
import { ADVICE_WEIGHTED, type ResolvedProgramOptions } from './options.ts';

/** How often each op kind is drawn, relative to the others. */
export const OP_WEIGHTS: Record<OpKind, number> = {
  mmap: 4,
  munmap: 1,
  mremap: 2,
  mprotect: 1,
  madvise: 2,
  read: 6,
  write: 6,
  fork: 2,
  exec: 1,
  exit: 1,
  pin: 3,
  pinRead: 3,
  pinWrite: 3,
  unpin: 1,
  get: 2,
  getRead: 2,
  put: 1,
  swapon: 1,
  swapoff: 2,
  reclaim: 4,
  migrate: 4,
  hugetlbCreate: 1,
  hugetlbMmap: 1,
  hugetlbPunch: 3,
  hugetlbTruncate: 1,
  memfdCreate: 1,
  memfdMmap: 2,
  memfdTruncate: 1,
  memfdPunch: 2,
};

/** Swap device handles a program uses. */
const SWAP_DEVICES = 2;

/** Pin handles a program uses: few, so that pins are reused and collide. */
const PIN_HANDLES = 2;

/** A pin flag: the one asked for, or either. */
function pinFlag(fixed: boolean | undefined): fc.Arbitrary<boolean> {
  return fixed === undefined ? fc.boolean() : fc.constant(fixed);
}

/** One op of the given kind; write values are filled in later (unique per program). */
export function opArb(kind: OpKind, o: ResolvedProgramOptions, processes: number): fc.Arbitrary<Op> {
  // Biased towards the first region and page: collisions are where bugs live.
  const region = fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.nat(o.regions - 1), weight: 1 });
  // Now and then the page just below the region: below a stack (MAP_GROWSDOWN) an access grows it.
  const page = fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.nat(o.maxPages - 1), weight: 4 }, { arbitrary: fc.constant(-1), weight: 1 });
  const pages = fc.integer({ min: 1, max: o.maxPages });
  // A length of 0 now and then: munmap refuses it, mprotect and madvise do nothing and succeed.
  const rangePages = fc.oneof({ arbitrary: pages, weight: 15 }, { arbitrary: fc.constant(0), weight: 1 });
  const word = fc.nat(WORDS_PER_PAGE - 1);
  // A new length of whole PMDs now and then, as realloc() of a large buffer asks: a THP region
  // (one PMD) keeps its size or doubles, and the move can take its huge PMDs whole (move_huge_pmd).
  const pmdSized = fc.constantFrom(HPAGE_PMD_NR, 2 * HPAGE_PMD_NR);
  // Mostly the device every swap program starts with (dev 0).
  const dev = fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.nat(SWAP_DEVICES - 1), weight: 1 });
  const prot = fc.constantFrom('rw' as const, 'rw' as const, 'r' as const, 'none' as const);
  switch (kind) {
    case 'mmap':
      // One mapping in four a stack (MAP_GROWSDOWN); one in four of the others shared (MAP_SHARED | MAP_ANONYMOUS: shmem).
      return fc
        .record({ op: fc.constant('mmap' as const), region, pages, prot: fc.constantFrom('rw' as const, 'rw' as const, 'rw' as const, 'r' as const), growsdown: fc.constantFrom(false, false, false, true), shared: fc.constantFrom(false, false, false, true) })
        .map(({ growsdown, shared, ...m }): Op => (growsdown ? { ...m, growsdown } : shared ? { ...m, shared } : m));
    case 'munmap':
      return fc.record({ op: fc.constant('munmap' as const), region, page, pages: rangePages });
    case 'mremap':
      return fc.oneof(
        {
          arbitrary: fc.record(
            { op: fc.constant('mremap' as const), region, pages: fc.oneof({ arbitrary: fc.integer({ min: 1, max: o.maxPages + 2 }), weight: 6 }, { arbitrary: pmdSized, weight: 1 }), maymove: fc.boolean(), fixedTo: region },
            { requiredKeys: ['op', 'region', 'pages', 'maymove'] },
          ),
          weight: 3,
        },
        // MREMAP_DONTUNMAP: a move that keeps the old range mapped (it cannot resize).
        {
          arbitrary: fc.record({
            op: fc.constant('mremap' as const),
            region,
            // Mostly the size of region 0's first mapping, which every program starts with (a THP's, a third of the time).
            pages: fc.oneof({ arbitrary: fc.constant(o.maxPages), weight: 2 }, { arbitrary: pages, weight: 1 }, { arbitrary: fc.constant(HPAGE_PMD_NR), weight: 1 }),
            maymove: fc.constant(true),
            dontunmap: fc.constant(true),
          }),
          weight: 1,
        },
      );
    case 'mprotect':
      return fc.record({ op: fc.constant('mprotect' as const), region, page, pages: rangePages, prot });
    case 'madvise':
      return fc.record({
        op: fc.constant('madvise' as const),
        region,
        page,
        pages: rangePages,
        advice: fc.constantFrom(...ADVICE_WEIGHTED.filter((a) => o.advice.includes(a))),
      });
    case 'read':
      return fc.record({ op: fc.constant('read' as const), region, page, word });
    case 'write':
      return fc.record({ op: fc.constant('write' as const), region, page, word, value: fc.constant(0) });
    case 'fork':
      return processes > 1 ? fc.record({ op: fc.constant('fork' as const), child: fc.integer({ min: 1, max: processes - 1 }) }) : fc.constant({ op: 'exit' as const });
    case 'exec':
      return fc.record({ op: fc.constant('exec' as const), region, args: fc.integer({ min: 1, max: 3 }) });
    case 'exit':
      return fc.constant({ op: 'exit' as const });
    case 'pin':
      return fc.record({
        op: fc.constant('pin' as const),
        pin: fc.nat(PIN_HANDLES - 1),
        region,
        page,
        write: pinFlag(o.pinFlags.write),
        fast: pinFlag(o.pinFlags.fast),
        longterm: pinFlag(o.pinFlags.longterm),
      });
    case 'pinRead':
      return fc.record({ op: fc.constant('pinRead' as const), pin: fc.nat(PIN_HANDLES - 1), word });
    case 'pinWrite':
      return fc.record({ op: fc.constant('pinWrite' as const), pin: fc.nat(PIN_HANDLES - 1), word, value: fc.constant(0) });
    case 'unpin':
      return fc.record({ op: fc.constant('unpin' as const), pin: fc.nat(PIN_HANDLES - 1) });
    case 'get':
      return fc.record({ op: fc.constant('get' as const), ref: fc.nat(PIN_HANDLES - 1), region, page, fast: fc.boolean() });
    case 'getRead':
      return fc.record({ op: fc.constant('getRead' as const), ref: fc.nat(PIN_HANDLES - 1), word });
    case 'put':
      return fc.record({ op: fc.constant('put' as const), ref: fc.nat(PIN_HANDLES - 1) });
    case 'swapon':
      return fc
        .record({ dev, slots: fc.integer({ min: 1, max: 8 }), sync: fc.boolean() })
        .map(({ dev, slots, sync }): Op => (sync ? { op: 'swapon', dev, slots, sync } : { op: 'swapon', dev, slots }));
    case 'swapoff':
      return fc.record({ op: fc.constant('swapoff' as const), dev });
    case 'reclaim':
      return fc.record({ op: fc.constant('reclaim' as const), victim: fc.nat(15) });
    case 'migrate':
      return fc.record({ op: fc.constant('migrate' as const), victim: fc.nat(15) });
    case 'hugetlbCreate':
    case 'hugetlbMmap':
    case 'hugetlbPunch':
    case 'hugetlbTruncate':
      return hugetlbOpArb(kind, region);
    case 'memfdCreate':
    case 'memfdMmap':
    case 'memfdTruncate':
    case 'memfdPunch':
      return memfdOpArb(kind, region, o.maxPages);
  }
}

/** opArb for one program's options. */
export type OpArbs = (kind: OpKind, processes: number) => fc.Arbitrary<Op>;

/**
 * opArb, each kind and process count built once. Arbitraries are stateless,
 * so the draws are the same; a swarm program picks its op kinds per case,
 * and building their arbitraries anew for every case was most of what
 * generation allocated.
 */
export function opArbs(o: ResolvedProgramOptions): OpArbs {
  const built = new Map<string, fc.Arbitrary<Op>>();
  return (kind, processes) => {
    const key = `${kind}/${processes}`;
    let arb = built.get(key);
    if (!arb) built.set(key, (arb = opArb(kind, o, processes)));
    return arb;
  };
}

/** A kernel thread's ops: reclaim passes, and sometimes a swapoff (the seed 004 races). */
export function kthreadArb(kinds: readonly OpKind[], o: ResolvedProgramOptions, ops: OpArbs): fc.Arbitrary<Op[]> {
  const ks = kinds.filter((k) => k === 'reclaim' || k === 'swapoff' || k === 'swapon' || k === 'migrate');
  if (ks.length === 0) return fc.constant([]);
  const op = fc.oneof(...ks.map((k) => ({ arbitrary: ops(k, 1), weight: OP_WEIGHTS[k] })));
  return fc.array(op, { minLength: 1, maxLength: Math.max(1, Math.ceil(o.maxOpsPerThread / 2)) });
}
