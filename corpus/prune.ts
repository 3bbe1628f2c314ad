import { rmSync } from 'node:fs';
import { dedupKey, reproSize } from './entry.ts';
import { EntryPropertyError, shown } from './errors.ts';
import { ModelCache } from './model.ts';
import { replayEntry } from './replay.ts';
import { listEntries, type CorpusWarn, type StoredEntry } from './store.ts';

export interface Pruned {
  readonly file: string;
  readonly why: string;
}

export interface PruneOptions {
  /** Report what would go, delete nothing. */
  readonly dryRun?: boolean;
  /** Told about each file that cannot be read; such files are left alone. */
  readonly warn?: CorpusWarn;
}

/** Per bug the smallest repro stays (ties: the first file name); the rest are duplicates. */
function duplicates(entries: readonly StoredEntry[]): Pruned[] {
  const best = new Map<string, StoredEntry>();
  for (const s of entries) {
    const b = best.get(dedupKey(s.entry));
    if (!b || reproSize(s.entry) < reproSize(b.entry)) best.set(dedupKey(s.entry), s);
  }
  return entries.filter((s) => best.get(dedupKey(s.entry)) !== s).map((s) => ({ file: s.file, why: `duplicate of ${shown(best.get(dedupKey(s.entry))!.file)}` }));
}

/**
 * Drop the entries of a corpus directory that no longer reproduce on the
 * current model (the bug was fixed, or the model changed under it), and
 * duplicates. Entries found on a patched model replay on that patch.
 */
export async function pruneCorpus(dir: string, o: PruneOptions = {}): Promise<Pruned[]> {
  const entries = listEntries(dir, o.warn);
  const out = duplicates(entries);
  const gone = new Set(out.map((p) => p.file));
  const models = new ModelCache();
  try {
    for (const s of entries.filter((x) => !gone.has(x.file))) {
      let why: string | undefined;
      try {
        const r = replayEntry(s.entry, await models.get(s.entry.patch));
        if (!r.reproduced) why = `no longer violates ${s.entry.property}${r.violation ? ` (now ${r.violation.property}: ${r.violation.message})` : ''}`;
      } catch (e) {
        if (!(e instanceof EntryPropertyError)) throw e;
        why = e.message;
      }
      if (why) out.push({ file: s.file, why });
    }
  } finally {
    await models.dispose();
  }
  if (!o.dryRun) for (const p of out) rmSync(p.file, { force: true });
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
