import fc from 'fast-check';
import { HPAGE_PMD_NR } from '../engine/mm/mm_types.ts';
import type { Op, OpKind, Program } from '../engine/program/ops.ts';
import { kthreadArb, opArbs, OP_WEIGHTS, type OpArbs } from './ops.ts';
import { vmaRaceArb } from './vma-race.ts';
import { opsWithUndos } from './undo.ts';
import { resolveProgramOptions, type ProgramArbOptions, type ResolvedProgramOptions } from './options.ts';

/** Give every write a distinct value (1, 2, ...), in program order, so a read names its source. */
export function numberWrites(p: Program): Program {
  let v = 0;
  const number = (ops: readonly Op[]): Op[] => ops.map((op): Op => (op.op === 'write' || op.op === 'pinWrite' ? { ...op, value: ++v } : op));
  return {
    ...p,
    processes: p.processes.map((proc) => ({ threads: proc.threads.map(number) })),
  };
}

function threadArb(kinds: readonly OpKind[], o: ResolvedProgramOptions, ops: OpArbs, processes: number): fc.Arbitrary<Op[]> {
  const op = fc.oneof(...kinds.map((k) => ({ arbitrary: ops(k, processes), weight: OP_WEIGHTS[k] })));
  return opsWithUndos(op, o.maxOpsPerThread);
}

/** Mostly more than one process: a lone process cannot fork. */
function processCount(max: number): fc.Arbitrary<number> {
  if (max === 1) return fc.constant(1);
  return fc.oneof({ arbitrary: fc.constant(1), weight: 1 }, { arbitrary: fc.integer({ min: 2, max }), weight: 4 });
}

/**
 * Programs: up to maxProcesses processes (process 0 runs; the others run once
 * forked), 1..maxThreads threads each. Process 0's first thread starts by
 * mapping something, so most programs touch memory. With swarm testing each
 * program draws from its own random subset of op kinds.
 */
export function programArb(options: ProgramArbOptions = {}): fc.Arbitrary<Program> {
  const o = resolveProgramOptions(options);
  const withMode = (p: Program): Program => (o.faultMode === 'vma-lock' ? p : { ...p, faultMode: o.faultMode });
  if (o.vmaRace) return vmaRaceArb(o).map((p) => withMode(numberWrites(p)));
  // Swarm over the ops that change the address space; reads and writes stay
  // on (when allowed): they are how a bug becomes visible.
  const observers: OpKind[] = o.ops.filter((k) => k === 'read' || k === 'write');
  const others = o.ops.filter((k) => !observers.includes(k));
  const kinds: fc.Arbitrary<readonly OpKind[]> =
    o.swarm && others.length > 0
      ? fc.subarray(others, { minLength: observers.length ? 0 : 1 }).map((ks) => [...observers, ...ks])
      : fc.constant(o.ops);
  const ops = opArbs(o);
  const drawnProgram = fc
    .tuple(kinds, processCount(o.maxProcesses))
    .chain(([ks, n]) =>
      fc
        .tuple(
          fc.array(fc.array(threadArb(ks, o, ops, n), { minLength: 1, maxLength: o.maxThreads }), { minLength: n, maxLength: n }),
          fc.array(kthreadArb(ks, o, ops), { minLength: 0, maxLength: 1 }),
          fc.boolean(),
        )
        .map(([procs, kthreads, sync]) => ({ procs, kthreads: kthreads.filter((t) => t.length > 0), ks, sync })),
    );
  // Drawn beside the program, not before it: a chained source that shrinks draws the program anew.
  // A quarter of the machines map the shared zero page on read faults, as Linux does; the others behave as
  // under mm_forbids_zeropage(), where every first touch gets its own page (which reclaim can swap out).
  // A third of the programs start with a THP: region 0 a PMD-sized MADV_HUGEPAGE mapping (thpPrelude),
  // half of them touched at once (so that forks share it and pins find it), half left for a racing first fault.
  // On a zero-page machine, where a read maps the huge zero page, those touched at once are touched by a
  // write (a THP) or by a read (the huge zero page, shared with the fork), none left empty.
  // Shrinking goes towards 0: from touched to empty (on a zero-page machine: from a write to a read) to no THP,
  // never adding an op.
  const machineDraws = fc.tuple(fc.nat(3).map((x) => x === 3), fc.nat(5));
  return fc
    .tuple(drawnProgram, machineDraws)
    .map(([d, [zeroPage, x]]) => ({ ...d, zeroPage, thp: thpDraw(x, zeroPage) }))
    .map(({ procs, kthreads, ks, sync, zeroPage, thp }) => {
      // Pure: the drawn arrays are never changed (fast-check shrinks from them, so a prelude
      // written into them would come back twice). Process 0's first thread is rebuilt instead.
      const huge = thp !== undefined && o.ops.includes('mmap') && o.ops.includes('madvise') && o.advice.includes('HUGEPAGE');
      const drawn = withPrelude(procs[0]![0]!, { ks, kthreads, processes: procs.length, sync }, o);
      const kind = thp === 'read' || thp === 'write' ? thp : undefined;
      const touch = kind !== undefined && o.ops.includes(kind);
      const first = huge ? thpPrelude(drawn, touch && kind, touch && ks.includes('fork') && procs.length > 1) : drawn;
      const threads0 = [first, ...procs[0]!.slice(1)];
      // A THP takes HPAGE_PMD_NR aligned frames of its own.
      const frames = huge ? o.frames + 2 * HPAGE_PMD_NR : o.frames;
      // khugepaged runs wherever MADV_HUGEPAGE may be drawn (the executor spawns it once a program has one).
      const khugepaged = o.ops.includes('madvise') && o.advice.includes('HUGEPAGE');
      const p: Program = { processes: [threads0, ...procs.slice(1)].map((threads) => ({ threads })), frames, ...(zeroPage ? { zeroPage } : {}), ...(khugepaged ? { khugepaged } : {}) };
      return withMode(numberWrites(kthreads.length ? { ...p, kthreads } : p));
    });
}

/**
 * The THP prelude of a draw of 0..5 (see programArb): touched at once by a read, or left empty for a racing
 * first fault; on a zero-page machine, where a read maps the huge zero page, touched by a write or by a read.
 */
function thpDraw(x: number, zeroPage: boolean): 'read' | 'write' | 'empty' | undefined {
  if (x === 5) return zeroPage ? 'write' : 'read';
  if (x === 4) return zeroPage ? 'read' : 'empty';
  return undefined;
}

/**
 * Region 0 becomes a PMD-sized, PMD-aligned mapping with MADV_HUGEPAGE: its first touch maps a THP or, a read
 * on a zero-page machine, the huge zero page (with `touch`, at once; with `fork` too, P1 is forked right away and
 * shares it, as hugetlb programs share their file).
 */
function thpPrelude(first: Op[], touch: 'read' | 'write' | false, fork: boolean): Op[] {
  const at = first.findIndex((x) => x.op === 'mmap' && x.region === 0);
  const thp: Op[] = [
    { op: 'mmap', region: 0, pages: HPAGE_PMD_NR, prot: 'rw' },
    { op: 'madvise', region: 0, page: 0, pages: HPAGE_PMD_NR, advice: 'HUGEPAGE' },
    ...(touch === 'read' ? [{ op: 'read', region: 0, page: 0, word: 0 } as const] : []),
    ...(touch === 'write' ? [{ op: 'write', region: 0, page: 0, word: 0, value: 0 } as const] : []),
    ...(fork ? [{ op: 'fork', child: 1 } as const] : []),
  ];
  return at < 0 ? [...thp, ...first] : [...first.slice(0, at), ...thp, ...first.slice(at + 1)];
}

interface Drawn {
  readonly ks: readonly OpKind[];
  readonly kthreads: readonly (readonly Op[])[];
  readonly processes: number;
  /** The prelude's swap device is synchronous (SWP_SYNCHRONOUS_IO: swap-in skips the swap cache). */
  readonly sync: boolean;
}

/** Process 0's first thread with its prelude: a mapping, a swap device, the shared hugetlbfs file. */
function withPrelude(drawn: readonly Op[], { ks, kthreads, processes, sync }: Drawn, o: ResolvedProgramOptions): Op[] {
  let first: Op[] = drawn[0]?.op !== 'mmap' && o.ops.includes('mmap') ? [{ op: 'mmap', region: 0, pages: o.maxPages, prot: 'rw' }, ...drawn] : [...drawn];
  // Reclaim and swapoff need a device: programs that may use swap start with one.
  const swaps = ks.includes('reclaim') || ks.includes('swapoff') || kthreads.some((t) => t.some((op) => op.op === 'reclaim' || op.op === 'swapoff'));
  if (swaps && o.ops.includes('swapon')) first = [sync ? { op: 'swapon', dev: 0, slots: 8, sync } : { op: 'swapon', dev: 0, slots: 8 }, ...first];
  // Programs that may map hugetlbfs files start with r0 a shared mapping of file 0, which forks inherit.
  // With fork on, P1 is forked right away: two processes share the file's pages (and page tables).
  if (ks.includes('hugetlbMmap')) {
    const prelude: Op[] = [{ op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 2, prot: 'rw' }];
    if (ks.includes('fork') && processes > 1) prelude.push({ op: 'fork', child: 1 });
    const at = first.findIndex((x) => x.op === 'mmap') + 1;
    first = [...first.slice(0, at), ...prelude, ...first.slice(at)];
  }
  // Programs that may map memfds start with a MAP_SHARED and a MAP_PRIVATE mapping of memfd 0 as r0
  // and r1, so that a private view sees the file change under it until it writes.
  if (ks.includes('memfdMmap')) {
    const hugetlb = ks.includes('hugetlbMmap');
    // r0 (or, beside hugetlbfs, r1 alone) is MAP_PRIVATE if the thread maps a memfd so itself; r1 the other kind.
    const shared = !drawn.some((x) => x.op === 'memfdMmap' && !x.shared);
    const prelude: Op[] = [
      { op: 'memfdCreate', file: 0, pages: o.maxPages },
      { op: 'memfdMmap', region: hugetlb ? 1 : 0, file: 0, page: 0, pages: o.maxPages, prot: 'rw', shared },
    ];
    if (!hugetlb && o.regions > 1) prelude.push({ op: 'memfdMmap', region: 1, file: 0, page: 0, pages: o.maxPages, prot: 'rw', shared: !shared });
    if (ks.includes('fork') && processes > 1 && !hugetlb) prelude.push({ op: 'fork', child: 1 });
    const at = first.findIndex((x) => x.op === 'mmap') + 1;
    first = [...first.slice(0, at), ...prelude, ...first.slice(at)];
  }
  return first;
}
