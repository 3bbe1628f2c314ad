import { resolveProgramOptions, type ProgramArbOptions } from '../generators/index.ts';
import { propertyNames } from '../properties/index.ts';
import { PatchHeaderError } from './errors.ts';

/** What a known-bad patch says about itself, above its diff. */
export interface PatchHeader {
  /** The seed thread it comes from: a file in ../shared/seeds/. */
  readonly seed: string;
  /** The kernel fix it reverts: commit id and title, or the thread. */
  readonly reverts: string;
  /** The property that must catch it. */
  readonly expect: string;
  readonly why: string;
  /** Generator options for the campaign, when the bug needs a particular op mix. */
  readonly program?: ProgramArbOptions;
  /** The campaign seed (default 0). */
  readonly fuzzSeed: number;
}

const REQUIRED = ['Seed', 'Reverts', 'Expect', 'Why'] as const;

/** Where the diff starts: `git apply` and the diff package skip everything above. */
const DIFF_START = /^(diff |--- |Index: )/;

/** `Key: value` lines, each continued by indented lines, up to the diff. */
function fields(text: string, patch: string): Map<string, string> {
  const out = new Map<string, string>();
  let key: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (DIFF_START.test(line)) break;
    if (line.trim() === '') {
      key = undefined;
      continue;
    }
    const kv = /^([A-Za-z][\w-]*):\s*(.*)$/.exec(line);
    if (kv) {
      key = kv[1]!;
      if (out.has(key)) throw new PatchHeaderError(patch, `header line ${i + 1} repeats "${key}:"`);
      out.set(key, kv[2]!.trim());
    } else if (key && /^\s/.test(line)) {
      out.set(key, `${out.get(key)} ${line.trim()}`.trim());
    } else {
      throw new PatchHeaderError(patch, `header line ${i + 1} is neither "Key: value" nor an indented continuation`);
    }
  }
  return out;
}

function programOptions(json: string, patch: string): ProgramArbOptions {
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch {
    throw new PatchHeaderError(patch, `"Program:" is not JSON (${json})`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new PatchHeaderError(patch, '"Program:" must be a JSON object of generator options');
  try {
    resolveProgramOptions(o as ProgramArbOptions);
  } catch (e) {
    throw new PatchHeaderError(patch, `"Program:" ${(e as Error).message}`);
  }
  return o as ProgramArbOptions;
}

/** Does `property` satisfy the header's Expect (`a|b` means either)? */
export function expectsProperty(expect: string, property: string | undefined): boolean {
  return property !== undefined && expect.split('|').includes(property);
}

/** Parse and check the header of a known-bad patch; `patch` names it in errors. */
export function parsePatchHeader(text: string, patch: string): PatchHeader {
  const f = fields(text, patch);
  for (const k of REQUIRED) if (!f.get(k)) throw new PatchHeaderError(patch, `the header has no "${k}:" line`);
  // `Expect: a | b (commentary)`: a bug may show as one property or another, by timing.
  const names = f.get('Expect')!.split('(')[0]!.split('|').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!propertyNames.includes(n)) throw new PatchHeaderError(patch, `"Expect: ${n}" is not a property (${propertyNames.join(', ')})`);
  if (names.length === 0) throw new PatchHeaderError(patch, 'the "Expect:" line names no property');
  const expect = names.join('|');
  const seedText = f.get('Fuzz-Seed');
  if (seedText !== undefined && !/^\d+$/.test(seedText)) throw new PatchHeaderError(patch, `"Fuzz-Seed: ${seedText}" is not a non-negative integer`);
  const program = f.get('Program');
  return {
    seed: f.get('Seed')!,
    reverts: f.get('Reverts')!,
    expect,
    why: f.get('Why')!,
    program: program === undefined ? undefined : programOptions(program, patch),
    fuzzSeed: seedText === undefined ? 0 : Number(seedText),
  };
}
