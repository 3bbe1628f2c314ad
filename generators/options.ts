import { OP_KINDS, type Advice, type FaultMode, type OpKind } from '../engine/program/ops.ts';
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
  /** The madvise advice drawn (default: all, DONTNEED and PAGEOUT twice as often as the rest). */
  readonly advice?: readonly Advice[];
  /** Pin flags held fixed (FOLL_WRITE, GUP-fast, FOLL_LONGTERM); a flag not given is drawn. */
  readonly pinFlags?: PinFlags;
}

export interface PinFlags {
  readonly write?: boolean;
  readonly fast?: boolean;
  readonly longterm?: boolean;
}

/** Every advice, in the order and with the weights the generator draws them. */
export const ADVICE_WEIGHTED: readonly Advice[] = [
  'DONTNEED',
  'DONTNEED',
  'WIPEONFORK',
  'KEEPONFORK',
  'DONTFORK',
  'DOFORK',
  'PAGEOUT',
  'PAGEOUT',
  'COLD',
  'WILLNEED',
  // Allocators' (jemalloc, glibc) most common advice.
  'FREE',
  'FREE',
  'FREE',
];

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
  advice: [...new Set(ADVICE_WEIGHTED)],
  pinFlags: {},
};

const PIN_FLAGS: readonly (keyof PinFlags)[] = ['write', 'fast', 'longterm'];

function int(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new GeneratorOptionsError(`programArb: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
}

/** Fill defaults and say exactly what is wrong with a bad option. */
export function resolveProgramOptions(o: ProgramArbOptions = {}): ResolvedProgramOptions {
  // A misspelt option would otherwise be ignored, and the campaign would quietly fuzz something else.
  for (const k of Object.keys(o)) {
    if (!(k in DEFAULT_PROGRAM_OPTIONS)) throw new GeneratorOptionsError(`programArb: unknown option "${k}"; choose from ${Object.keys(DEFAULT_PROGRAM_OPTIONS).join(', ')}`);
  }
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
  if (!Array.isArray(r.advice) || r.advice.length === 0) throw new GeneratorOptionsError('programArb: advice must name at least one madvise advice');
  for (const a of r.advice) {
    if (!ADVICE_WEIGHTED.includes(a)) throw new GeneratorOptionsError(`programArb: unknown advice "${a}"; choose from ${DEFAULT_PROGRAM_OPTIONS.advice.join(', ')}`);
  }
  if (typeof r.pinFlags !== 'object' || r.pinFlags === null || Array.isArray(r.pinFlags)) throw new GeneratorOptionsError('programArb: pinFlags must be an object such as {"fast": true, "write": false}');
  for (const [k, v] of Object.entries(r.pinFlags)) {
    if (!PIN_FLAGS.includes(k as keyof PinFlags)) throw new GeneratorOptionsError(`programArb: unknown pin flag "${k}"; choose from ${PIN_FLAGS.join(', ')}`);
    if (typeof v !== 'boolean') throw new GeneratorOptionsError(`programArb: pin flag ${k} must be true or false, got ${JSON.stringify(v)}`);
  }
  return r;
}
