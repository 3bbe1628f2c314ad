import { OP_KINDS, type OpKind } from '../engine/program/ops.ts';
import { CORPUS_SCHEMA, type CorpusEntry } from './entry.ts';
import { CorpusFormatError } from './errors.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Why `v` is not a program, or undefined. Op fields are checked for kind only: the op set grows. */
function programProblem(v: unknown): string | undefined {
  if (!isObject(v) || !Array.isArray(v.processes)) return 'program.processes is not a list';
  if (v.frames !== undefined && !isNat(v.frames)) return 'program.frames is not a count';
  for (const [pid, proc] of v.processes.entries()) {
    if (!isObject(proc) || !Array.isArray(proc.threads)) return `program.processes[${pid}].threads is not a list`;
    for (const [tid, ops] of proc.threads.entries()) {
      if (!Array.isArray(ops)) return `thread P${pid}.T${tid} is not a list of ops`;
      for (const [i, op] of ops.entries()) {
        const where = `op ${i} of P${pid}.T${tid}`;
        if (!isObject(op) || !OP_KINDS.includes(op.op as OpKind)) return `${where} is not one of ${OP_KINDS.join(', ')}`;
        for (const [k, x] of Object.entries(op)) {
          if (typeof x === 'number' ? !Number.isFinite(x) : typeof x !== 'string' && typeof x !== 'boolean') return `${where} has a bad ${k}`;
        }
      }
    }
  }
  return undefined;
}

function scheduleProblem(v: unknown): string | undefined {
  if (!Array.isArray(v)) return 'schedule is not a list';
  let last = -1;
  for (const [i, s] of v.entries()) {
    if (!isObject(s) || !isNat(s.step) || !isNat(s.task)) return `schedule[${i}] is not {step, task}`;
    if (s.step <= last) return 'schedule steps do not increase';
    last = s.step;
  }
  return undefined;
}

const SHRINK_FIELDS = ['ops', 'switches', 'fromOps', 'fromSwitches', 'runs', 'ms'] as const;

function problem(e: Json): string | undefined {
  if (e.schema !== CORPUS_SCHEMA) return e.schema === undefined ? 'missing schema' : `schema ${JSON.stringify(e.schema)} is not ${CORPUS_SCHEMA}`;
  for (const k of ['engine', 'property', 'message', 'signature'] as const) {
    if (e[k] === undefined) return `missing ${k}`;
    if (typeof e[k] !== 'string') return `${k} is not a string`;
  }
  for (const k of ['seed', 'run'] as const) if (!isNat(e[k])) return e[k] === undefined ? `missing ${k}` : `${k} is not a non-negative integer`;
  if (e.program === undefined) return 'missing program';
  if (e.schedule === undefined) return 'missing schedule';
  if (e.shrink === undefined) return 'missing shrink';
  const bad = programProblem(e.program) ?? scheduleProblem(e.schedule);
  if (bad) return bad;
  const s = e.shrink;
  if (!isObject(s) || SHRINK_FIELDS.some((k) => typeof s[k] !== 'number')) return `shrink is not {${SHRINK_FIELDS.join(', ')}}`;
  if (e.patch !== undefined && (typeof e.patch !== 'string' || e.patch === '')) return 'patch is not a file name';
  if (e.checks !== undefined && !(Array.isArray(e.checks) && e.checks.every((c) => typeof c === 'string'))) return 'checks is not a list of property names';
  return undefined;
}

/**
 * Parse and check one entry. Anything a replay would trip over later (a
 * truncated file, a missing program, a schedule out of order) is reported
 * now, naming the file. Unknown extra keys are allowed: corpus/known-bad/
 * entries carry more.
 */
export function parseEntry(text: string, file: string): CorpusEntry {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CorpusFormatError(file, text.trim() === '' ? 'the file is empty' : 'not JSON, perhaps truncated');
  }
  if (!isObject(v)) throw new CorpusFormatError(file, 'not a JSON object');
  const why = problem(v);
  if (why) throw new CorpusFormatError(file, why);
  return v as unknown as CorpusEntry;
}
