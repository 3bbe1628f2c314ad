/**
 * What a C stress reproducer runs, derived from a corpus entry: every
 * process of the entry is a process from the start, every thread a pthread
 * that loops over its ops. A loop iteration re-creates the racing window:
 * what the body maps it unmaps at the end, what it mprotects it sets back.
 * A process forked in the entry starts with the mappings its parent had
 * made before the fork. Ops that do not bear on the symptom (swap, kernel
 * threads) are left out and listed.
 *
 * Geometry: a model huge page is one page-table page's worth of memory, so
 * it becomes 1 GiB here (x86-64's PUD_SIZE: the range a shared PMD page
 * covers); a model base page is 4 KiB.
 */
import { formatOp } from '../../engine/program/format.ts';
import type { Op, Program, Prot } from '../../engine/program/ops.ts';

export type Step =
  | { readonly kind: 'map'; readonly region: number; readonly file?: number; readonly offset: number; readonly length: number; readonly prot: Prot; readonly huge: boolean }
  | { readonly kind: 'unmap'; readonly region: number; readonly length: number }
  | { readonly kind: 'protect'; readonly region: number; readonly length: number; readonly prot: Prot; readonly restore: boolean }
  | { readonly kind: 'read'; readonly region: number; readonly offset: number }
  | { readonly kind: 'write'; readonly region: number; readonly offset: number; readonly value: number; readonly mustFault: boolean }
  | { readonly kind: 'punch'; readonly file: number; readonly offset: number; readonly length: number }
  | { readonly kind: 'fork-check'; readonly words: readonly { region: number; offset: number; value: number }[] };

export interface ThreadPlan {
  readonly name: string;
  readonly body: readonly Step[];
}

export interface ProcessPlan {
  readonly name: string;
  readonly prelude: readonly Step[];
  readonly threads: readonly ThreadPlan[];
}

export interface ReproPlan {
  readonly processes: readonly ProcessPlan[];
  /** hugetlb files: their size in bytes. */
  readonly files: readonly number[];
  readonly hugepages: number;
  readonly leftOut: readonly string[];
}

export const GIB = 2 ** 30;
const PAGE = 4096;

interface RegionView {
  huge: boolean;
  file?: number;
  offset: number;
  length: number;
  prot: Prot;
}

/** Regions a process has when its threads start: its parent's, at the fork that made it. */
function inherited(p: Program): Map<number, Map<number, RegionView>> {
  const out = new Map<number, Map<number, RegionView>>([[0, new Map()]]);
  const walk = (pid: number) => {
    for (const ops of p.processes[pid]!.threads) {
      const regions = new Map(out.get(pid));
      for (const op of ops) {
        if (op.op === 'hugetlbMmap') regions.set(op.region, { huge: true, file: op.file, offset: op.hpage * GIB, length: op.hpages * GIB, prot: op.prot });
        if (op.op === 'mmap') regions.set(op.region, { huge: false, offset: 0, length: op.pages * PAGE, prot: op.prot });
        if (op.op === 'fork' && !out.has(op.child) && p.processes[op.child]?.threads.length) {
          out.set(op.child, new Map([...regions].map(([k, v]) => [k, { ...v }])));
          walk(op.child);
        }
      }
    }
  };
  walk(0);
  return out;
}

function unit(r: RegionView | undefined): number {
  return r?.huge ? GIB : PAGE;
}

/** May some thread of the process make the region writable (so a write to it is no symptom)? */
function mayBeWritable(ops: readonly Op[], region: number): boolean {
  return ops.some((o) => (o.op === 'mprotect' || o.op === 'mmap' || o.op === 'hugetlbMmap') && o.region === region && o.prot === 'rw');
}

function threadBody(p: Program, pid: number, ops: readonly Op[], start: Map<number, RegionView>, allOps: readonly Op[], leftOut: string[]): Step[] {
  const regions = new Map([...start].map(([k, v]) => [k, { ...v }]));
  const body: Step[] = [];
  const mapped = new Set<number>();
  const protectedRegions = new Map<number, Prot>();
  const written: { region: number; offset: number; value: number }[] = [];
  for (const op of ops) {
    switch (op.op) {
      case 'hugetlbMmap':
      case 'mmap': {
        const huge = op.op === 'hugetlbMmap';
        const r: RegionView = huge ? { huge, file: op.file, offset: op.hpage * GIB, length: op.hpages * GIB, prot: op.prot } : { huge, offset: 0, length: op.pages * PAGE, prot: op.prot };
        const old = regions.get(op.region);
        if (old) body.push({ kind: 'unmap', region: op.region, length: old.length });
        regions.set(op.region, r);
        mapped.add(op.region);
        body.push({ kind: 'map', region: op.region, ...r });
        break;
      }
      case 'mprotect': {
        const r = regions.get(op.region);
        if (!r) break;
        if (!protectedRegions.has(op.region)) protectedRegions.set(op.region, r.prot);
        r.prot = op.prot;
        body.push({ kind: 'protect', region: op.region, length: r.length, prot: op.prot, restore: false });
        break;
      }
      case 'read':
        if (regions.has(op.region)) body.push({ kind: 'read', region: op.region, offset: op.page * unit(regions.get(op.region)) + op.word * 8 });
        break;
      case 'write': {
        const r = regions.get(op.region);
        if (!r) break;
        const offset = op.page * unit(r) + op.word * 8;
        body.push({ kind: 'write', region: op.region, offset, value: op.value, mustFault: r.prot !== 'rw' && !mayBeWritable(allOps, op.region) });
        if (!r.huge) written.push({ region: op.region, offset, value: op.value });
        break;
      }
      case 'munmap':
        if (regions.has(op.region)) body.push({ kind: 'unmap', region: op.region, length: regions.get(op.region)!.length });
        regions.delete(op.region);
        mapped.delete(op.region);
        break;
      case 'hugetlbPunch':
        body.push({ kind: 'punch', file: op.file, offset: op.hpage * GIB, length: op.hpages * GIB });
        break;
      case 'fork':
        // A child with threads of its own is a process from the start; a bare fork is the COW check.
        if (!p.processes[op.child]?.threads.length && written.length) body.push({ kind: 'fork-check', words: [...written] });
        break;
      default:
        leftOut.push(`P${pid}: ${formatOp(op)}`);
    }
  }
  // Re-create the window: set back what the body changed, unmap what it mapped.
  for (const [region, prot] of protectedRegions) if (regions.has(region) && !mapped.has(region)) body.push({ kind: 'protect', region, length: regions.get(region)!.length, prot, restore: true });
  for (const region of mapped) if (regions.has(region)) body.push({ kind: 'unmap', region, length: regions.get(region)!.length });
  return body;
}

export function planRepro(p: Program): ReproPlan {
  const start = inherited(p);
  const leftOut: string[] = [];
  const processes: ProcessPlan[] = [];
  const files: number[] = [];
  for (const [pid, regions] of [...start].sort((a, b) => a[0] - b[0])) {
    const allOps = p.processes[pid]!.threads.flat();
    // Threads share the address space: a region another thread maps is one this thread may use.
    const shared = new Map(regions);
    for (const op of allOps) {
      if (op.op === 'hugetlbMmap' && !shared.has(op.region)) shared.set(op.region, { huge: true, file: op.file, offset: op.hpage * GIB, length: op.hpages * GIB, prot: op.prot });
      if (op.op === 'mmap' && !shared.has(op.region)) shared.set(op.region, { huge: false, offset: 0, length: op.pages * PAGE, prot: op.prot });
    }
    const prelude: Step[] = [...regions].map(([region, r]) => ({ kind: 'map', region, ...r }));
    const threads = p.processes[pid]!.threads.map((ops, tid) => ({ name: `P${pid}_T${tid}`, body: threadBody(p, pid, ops, shared, allOps, leftOut) }));
    processes.push({ name: `P${pid}`, prelude, threads });
  }
  for (const proc of processes)
    for (const s of [...proc.prelude, ...proc.threads.flatMap((t) => t.body)]) {
      if (s.kind === 'map' && s.file !== undefined) files[s.file] = Math.max(files[s.file] ?? 0, s.offset + s.length);
      if (s.kind === 'punch') files[s.file] = Math.max(files[s.file] ?? 0, GIB);
    }
  const bytes = files.reduce((a, b) => a + (b ?? 0), 0);
  for (const t of p.kthreads ?? []) for (const op of t) leftOut.push(`kthread: ${formatOp(op)}`);
  return { processes, files: files.map((f) => f ?? 0), hugepages: bytes ? bytes / (2 << 20) + 8 : 0, leftOut };
}
