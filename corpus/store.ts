import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import { dedupKey, reproSize, type CorpusEntry } from './entry.ts';
import { CorpusDirError, CorpusFileError, CorpusFormatError } from './errors.ts';
import { parseEntry } from './validate.ts';

export interface StoredEntry {
  readonly file: string;
  readonly entry: CorpusEntry;
}

export function loadEntry(file: string): CorpusEntry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CorpusFileError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  return parseEntry(text, file);
}

/** Told about each file of a corpus directory that cannot be read (the rest are still used). */
export type CorpusWarn = (e: Error) => void;

/**
 * The top-level *.json of a corpus directory, sorted by name; sub-directories
 * (known-bad/) are not entries. A file that is not a valid entry is passed to
 * warn and left out, so one bad file does not stop a whole corpus; when no
 * file could be read at all, its error is thrown (bad input).
 */
export function listEntries(dir: string, warn: CorpusWarn = () => {}): StoredEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CorpusDirError(dir, code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : (e as Error).message);
  }
  const files = names
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n))
    .filter((f) => statSync(f).isFile());
  const out: StoredEntry[] = [];
  const bad: Error[] = [];
  for (const file of files) {
    try {
      out.push({ file, entry: loadEntry(file) });
    } catch (e) {
      if (!(e instanceof CorpusFormatError || e instanceof CorpusFileError)) throw e;
      bad.push(e);
    }
  }
  if (out.length === 0 && bad.length > 0) throw bad[0]!;
  bad.forEach(warn);
  return out;
}

/** Create the directory if needed; a file in its place is bad input, not a crash. */
export function ensureCorpusDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CorpusDirError(dir, (e as NodeJS.ErrnoException).code === 'EEXIST' || (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'is not a directory' : (e as Error).message);
  }
}

/** `data-integrity-3f9a0c2b1d.json`: readable, and stable for a signature. */
export function entryFileName(e: CorpusEntry): string {
  const h = createHash('sha256').update(dedupKey(e)).digest('hex').slice(0, 10);
  return `${e.property.replace(/[^\w-]/g, '_')}-${h}.json`;
}

/** Pretty JSON with each op and switch on one line, so a diff of a repro reads like the repro. */
export function serializeEntry(e: CorpusEntry): string {
  // Innermost {...} / [...] groups fold onto one line; JSON strings never hold raw newlines.
  const pretty = JSON.stringify(e, null, 2).replace(/[{[][^{}[\]]*[}\]]/g, (g) => g.replace(/\n\s*/g, ' '));
  return `${pretty}\n`;
}

export function writeEntry(file: string, e: CorpusEntry): void {
  writeFileAtomic(file, serializeEntry(e));
}

export interface SaveOutcome {
  readonly file: string;
  /** added: a new file; replaced: a smaller repro of a known bug; kept: the corpus already had one as small. */
  readonly action: 'added' | 'replaced' | 'kept';
}

/**
 * Save an entry into a corpus directory, one file per bug: when an entry with
 * the same signature exists, the smaller repro (ops + switches) stays, in the
 * existing file. Every existing entry is read, so a corrupt one is reported
 * instead of silently shadowing a duplicate.
 */
export function saveEntry(dir: string, e: CorpusEntry): SaveOutcome {
  ensureCorpusDir(dir);
  const key = dedupKey(e);
  const same = listEntries(dir).find((s) => dedupKey(s.entry) === key);
  if (same) {
    if (reproSize(e) >= reproSize(same.entry)) return { file: same.file, action: 'kept' };
    writeEntry(same.file, e);
    return { file: same.file, action: 'replaced' };
  }
  const file = join(dir, entryFileName(e));
  writeEntry(file, e);
  return { file, action: 'added' };
}
