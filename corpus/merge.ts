import type { SaveOutcome } from './store.ts';
import { listEntries, saveEntry, type CorpusWarn } from './store.ts';

export interface MergeResult {
  readonly added: number;
  readonly replaced: number;
  readonly kept: number;
  readonly outcomes: readonly (SaveOutcome & { readonly from: string })[];
}

/**
 * Merge corpus directories into one (shards of a nightly campaign, a
 * colleague's corpus): one file per bug, the smaller repro wins. Every source
 * is read before anything is written; a file that cannot be read is passed to
 * warn and left where it is.
 */
export function mergeCorpora(sources: readonly string[], dest: string, warn?: CorpusWarn): MergeResult {
  const all = sources.flatMap((dir) => listEntries(dir, warn));
  const outcomes = all.map(({ file, entry }) => ({ from: file, ...saveEntry(dest, entry) }));
  const count = (a: SaveOutcome['action']): number => outcomes.filter((o) => o.action === a).length;
  return { added: count('added'), replaced: count('replaced'), kept: count('kept'), outcomes };
}
