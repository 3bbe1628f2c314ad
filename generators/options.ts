import { OP_KINDS, type FaultMode, type OpKind } from '../engine/program/ops.ts';
import { GeneratorOptionsError } from './errors.ts';

export interface ProgramArbOptions {
  /** Processes a program may have (fork creates all but the first): 1..4. */
  readonly maxProcesses?: number;
  /** Threads per process: 1..3. */
  readonly maxThreads?: number;
  readonly maxOpsPerThread?: number;
  /** Region handles ops choose from. */
  readonly regions?: number;
  /** Largest mapping, in pages. */
  readonly maxPages?: number;
  /** Physical memory; small, so that ENOMEM happens. */
  readonly frames?: number;
  /** Op kinds to draw from (default: all). */
  readonly ops?: readonly OpKind[];
  /** Swarm testing: each program enables a random non-empty subset of `ops`. */
  readonly swarm?: boolean;
  /** How the programs' user faults are handled (Program.faultMode): per-VMA locks (default) or speculative. */
  readonly faultMode?: FaultMode;
  /**
   * The 'vma-race' mix: process 0 maps and touches a region, then its first
   * thread munmaps, mremaps, mprotects or forks (from `ops`) while its other
   * threads read and write the region (and pin it, when `ops` names pin ops):
   * faults without mmap_lock, and GUP-fast without any lock, against VMA writers.
   */
  readonly vmaRace?: boolean;
}

export type ResolvedProgramOptions = Required<ProgramArbOptions>;

export const DEFAULT_PROGRAM_OPTIONS: ResolvedProgramOptions = {
  maxProcesses: 3,
  maxThreads: 2,
  maxOpsPerThread: 6,
  regions: 2,
  maxPages: 3,
  frames: 16,
  ops: OP_KINDS,
  swarm: true,
  faultMode: 'vma-lock',
  vmaRace: false,
};

function int(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new GeneratorOptionsError(`programArb: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
}

/** Fill defaults and say exactly what is wrong with a bad option. */
export function resolveProgramOptions(o: ProgramArbOptions = {}): ResolvedProgramOptions {
  const r = { ...DEFAULT_PROGRAM_OPTIONS, ...o };
  int('maxProcesses', r.maxProcesses, 1, 4);
  int('maxThreads', r.maxThreads, 1, 3);
  int('maxOpsPerThread', r.maxOpsPerThread, 1, 64);
  int('regions', r.regions, 1, 16);
  int('maxPages', r.maxPages, 1, 32);
  int('frames', r.frames, 1, 256);
  if (r.faultMode !== 'vma-lock' && r.faultMode !== 'spf') throw new GeneratorOptionsError(`programArb: faultMode must be "vma-lock" or "spf", got ${JSON.stringify(r.faultMode)}`);
  if (r.ops.length === 0) throw new GeneratorOptionsError('programArb: ops must name at least one op kind');
  for (const k of r.ops) {
    if (!OP_KINDS.includes(k)) throw new GeneratorOptionsError(`programArb: unknown op kind "${k}"; choose from ${OP_KINDS.join(', ')}`);
  }
  return r;
}
