// The corpus: shrunk repros as JSON files, one per bug. (The *.json beside
// this file are the project's own corpus; known-bad/ holds the repros of the
// known-bad patches.)
export { CORPUS_SCHEMA, entryFromFailure, failureOf, reproSize, dedupKey, type CorpusEntry } from './entry.ts';
export { engineHash } from '../project/engine-hash.ts';
export { CorpusFormatError, CorpusDirError, CorpusFileError, PatchNotFoundError, EntryPropertyError } from './errors.ts';
export { parseEntry } from './validate.ts';
export { loadEntry, listEntries, saveEntry, writeEntry, serializeEntry, entryFileName, ensureCorpusDir, type StoredEntry, type SaveOutcome } from './store.ts';
export { writeFileAtomic } from './atomic.ts';
export { mergeCorpora, type MergeResult } from './merge.ts';
export { pruneCorpus, type Pruned, type PruneOptions } from './prune.ts';
export { replayEntry, entryChecks, type ReplayOutcome, type ReplayOptions, type Judgeable } from './replay.ts';
export { cleanModel, patchedModel, ModelCache, type Model } from './model.ts';
export { patchName, resolvePatch } from './patch-path.ts';
