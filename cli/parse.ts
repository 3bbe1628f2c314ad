import { GeneratorOptionsError } from '../generators/errors.ts';
import { resolveProgramOptions, type ProgramArbOptions } from '../generators/index.ts';
import { durationMs } from './duration.ts';
import { UsageError } from './errors.ts';

/** An option value that does not parse: says what was typed and what is wanted. */
export class OptionValueError extends UsageError {
  constructor(flag: string, value: string, want: string, example: string) {
    super(`${flag} "${value}" is not ${want}; write it like ${example}`);
    this.name = 'OptionValueError';
  }
}

/** A parser for a count option (`--runs 20000`, `--workers 1`): a positive integer. */
export function countParser(flag: string, example: string): (text: string) => number {
  return (text) => {
    const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new OptionValueError(flag, text, 'a positive integer', `${flag} ${example}`);
    return n;
  };
}

/** A run index (`--run 807`): a non-negative integer. */
export function countOrZero(flag: string): (text: string) => number {
  return (text) => {
    const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n >= 2 ** 31) throw new OptionValueError(flag, text, 'a run index from 0', `${flag} 807`);
    return n;
  };
}

/** The campaign seed: the runner folds it to 32 bits, so larger seeds would alias. */
export function parseSeed(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n <= 0xffff_ffff)) throw new OptionValueError('--seed', text, 'an integer from 0 to 4294967295', '--seed 1');
  return n;
}

/** `30s`, `10m`, `1h`, `500ms` (or bare seconds), in milliseconds; as fuzz --time and check-patches --budget take them. */
export function parseDuration(flag: string): (text: string) => number {
  return (text) => {
    const ms = durationMs(text);
    if (ms === undefined) throw new OptionValueError(flag, text, 'a duration', `${flag} 30s, 10m or 1h`);
    return ms;
  };
}

export interface Shard {
  /** 0-based, as fuzz()'s shard option wants it. */
  readonly index: number;
  readonly count: number;
}

/** `--shard i/N`, i counted from 1 (as jest and playwright do): shard 1/4 runs runs 0, 4, 8, ... */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const i = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || i < 1 || i > count) throw new OptionValueError('--shard', text, 'i/N with 1 <= i <= N', '--shard 1/4 (shards 1/4 to 4/4 cover every run once)');
  return { index: i - 1, count };
}

/** Shown back in summaries as the user typed it. */
export function formatShard(s: Shard): string {
  return `${s.index + 1}/${s.count}`;
}

/**
 * `--program '{"ops": ["fork", "pin", "write"], "vmaRace": true}'`: the
 * generator options of a focused campaign (ProgramArbOptions, as in a known-bad
 * patch's `Program:` header), checked now rather than in every worker.
 */
export function parseProgram(text: string): ProgramArbOptions {
  const example = `--program '{"ops": ["mmap", "write", "fork", "pin"], "maxThreads": 2}'`;
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new OptionValueError('--program', text, 'a JSON object of generator options', example);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new OptionValueError('--program', text, 'a JSON object of generator options', example);
  try {
    resolveProgramOptions(o as ProgramArbOptions);
  } catch (e) {
    if (e instanceof GeneratorOptionsError) throw new UsageError(`--program: ${e.message.replace(/^programArb: /, '')}`);
    throw e;
  }
  return o as ProgramArbOptions;
}
