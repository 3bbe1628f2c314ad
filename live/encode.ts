/**
 * A sequential program as the C executor's input (live/c/main.c): the
 * processes and their thread counts, then every op in the global order the
 * model ran them, each as a kind number and six integer arguments.
 */
import type { Op, OpKind, Program, Prot } from '../engine/program/ops.ts';
import type { Advice } from '../engine/mm/madvise.ts';

/** /sys/kernel/mm/transparent_hugepage/enabled for a THP-mode run. */
export type ThpMode = 'always' | 'madvise';

/** The op's place: process -1 is a kernel thread. */
export interface Placed {
  readonly proc: number;
  readonly thread: number;
  readonly op: Op;
  /** mmap, hugetlbMmap, memfdMmap, mremap: the model page the model put the mapping at (-1 if it failed). */
  readonly place?: number;
}

const KINDS: readonly OpKind[] = [
  'mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'read', 'write', 'fork', 'exit',
  'pin', 'pinRead', 'pinWrite', 'unpin', 'swapon', 'swapoff',
  'hugetlbCreate', 'hugetlbMmap', 'hugetlbPunch', 'hugetlbTruncate',
  'get', 'getRead', 'put', 'memfdCreate', 'memfdMmap', 'memfdTruncate', 'memfdPunch',
];

const ADVICE: readonly Advice[] = ['DONTNEED', 'WIPEONFORK', 'KEEPONFORK', 'DONTFORK', 'DOFORK', 'PAGEOUT', 'COLD', 'WILLNEED', 'FREE', 'HUGEPAGE', 'NOHUGEPAGE'];

function prot(p: Prot): number {
  return p === 'rw' ? 3 : p === 'r' ? 1 : 0;
}

/** The six arguments of an op, in the order live/c/ops.c reads them. */
export function opArgs(op: Op, place = -1): number[] {
  switch (op.op) {
    case 'mmap': return [op.region, op.pages, prot(op.prot), place, op.growsdown ? 1 : 0, op.shared ? 1 : 0];
    case 'munmap': return [op.region, op.page, op.pages];
    case 'mremap': return [op.region, op.pages, op.maymove ? 1 : 0, op.fixedTo ?? -1, place, op.dontunmap ? 1 : 0];
    case 'mprotect': return [op.region, op.page, op.pages, prot(op.prot)];
    case 'madvise': return [op.region, op.page, op.pages, ADVICE.indexOf(op.advice)];
    case 'read': return [op.region, op.page, op.word];
    case 'write': return [op.region, op.page, op.word, op.value];
    case 'fork': return [op.child];
    case 'pin': return [op.pin, op.region, op.page, op.write ? 1 : 0, op.fast ? 1 : 0, op.longterm ? 1 : 0];
    case 'pinRead': return [op.pin, op.word];
    case 'pinWrite': return [op.pin, op.word, op.value];
    case 'unpin': return [op.pin];
    case 'swapon': return [op.dev, op.slots];
    case 'swapoff': return [op.dev];
    case 'hugetlbCreate': return [op.file, op.hpages];
    case 'hugetlbMmap': return [op.region, op.file, op.hpage, op.hpages, prot(op.prot), place];
    case 'hugetlbPunch': return [op.file, op.hpage, op.hpages];
    case 'hugetlbTruncate': return [op.file, op.hpages];
    case 'get': return [op.ref, op.region, op.page, op.fast ? 1 : 0];
    case 'getRead': return [op.ref, op.word];
    case 'put': return [op.ref];
    case 'memfdCreate': return [op.file, op.pages];
    case 'memfdMmap': return [op.region, op.file, op.page, op.pages, prot(op.prot) | (op.shared ? 4 : 0), place];
    case 'memfdTruncate': return [op.file, op.pages];
    case 'memfdPunch': return [op.file, op.page, op.pages];
    default: return [];
  }
}

export interface EncodeOptions {
  /** nr_hugepages for the run (restored after); undefined leaves it alone. */
  readonly hugepages?: number;
  /** THP mode (live/c/thp.c): the knob's setting for the run (restored after); a model page is 128 KiB. */
  readonly thp?: ThpMode;
  readonly timeoutSeconds: number;
}

/**
 * `end P T` lines: where each program thread ends in the order, as on the
 * model (live/sequential.ts), which ends a thread right after its last op:
 * after it, or, for a thread with no op, where its process starts (at once
 * for process 0, after the fork that makes the child). The executor closes
 * the thread's pipe there and, with its process's last thread, waits until
 * the process has exited.
 */
function threadEnds(program: Program, order: readonly Placed[]): Map<number, string[]> {
  const ends = new Map<number, string[]>();
  const add = (after: number, proc: number, thread: number) => ends.set(after, [...(ends.get(after) ?? []), `end ${proc} ${thread}`]);
  const last = new Map<string, number>();
  order.forEach((x, seq) => x.proc >= 0 && last.set(`${x.proc} ${x.thread}`, seq));
  const startOf = (proc: number) => (proc === 0 ? -1 : order.findIndex((x) => x.op.op === 'fork' && x.op.child === proc));
  program.processes.forEach((proc, p) => {
    const start = startOf(p);
    if (p > 0 && start < 0) return;
    proc.threads.forEach((_, t) => add(last.get(`${p} ${t}`) ?? start, p, t));
  });
  return ends;
}

export function encode(program: Program, order: readonly Placed[], o: EncodeOptions): string {
  const lines = [`procs ${program.processes.length}`];
  program.processes.forEach((p, i) => lines.push(`threads ${i} ${p.threads.length}`));
  if (o.hugepages !== undefined) lines.push(`hugepages ${o.hugepages}`);
  if (o.thp) lines.push(`thp ${o.thp}`);
  lines.push(`timeout ${o.timeoutSeconds}`);
  const ends = threadEnds(program, order);
  lines.push(...(ends.get(-1) ?? []));
  order.forEach((x, seq) => {
    const args = [...opArgs(x.op, x.place), 0, 0, 0, 0, 0, 0].slice(0, 6);
    lines.push(`op ${seq} ${x.proc} ${x.thread} ${KINDS.indexOf(x.op.op)} ${args.join(' ')}`);
    lines.push(...(ends.get(seq) ?? []));
  });
  return lines.join('\n') + '\n';
}
