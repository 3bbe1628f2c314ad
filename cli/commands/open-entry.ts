import type { CorpusEntry } from '../../corpus/entry.ts';
import { ModelCache, type Model } from '../../corpus/model.ts';
import { loadEntry } from '../../corpus/store.ts';

/**
 * Load an entry and the model it belongs to (the clean model, or a patched
 * copy for entries found with --patch), run body, then drop the copy.
 */
export async function withEntry<T>(file: string, body: (entry: CorpusEntry, model: Model) => T | Promise<T>): Promise<T> {
  const entry = loadEntry(file);
  const models = new ModelCache();
  try {
    return await body(entry, await models.get(entry.patch));
  } finally {
    await models.dispose();
  }
}
