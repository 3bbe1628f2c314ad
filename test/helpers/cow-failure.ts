// One real corpus-worthy failure, shared by the corpus and CLI specs: the
// COW path that forgets to copy (test/fixtures/cow-forgets-to-copy.patch),
// found and shrunk by a campaign on a patched copy of the model.
import { entryFromFailure, type CorpusEntry } from '../../corpus/entry.ts';
import { engineHash } from '../../project/engine-hash.ts';
import { patchedModel, type Model } from '../../corpus/model.ts';
import { patchName } from '../../corpus/patch-path.ts';
import { COW_PROGRAM, COW_SEED } from './cow-program.ts';

export const COW_PATCH = 'test/fixtures/cow-forgets-to-copy.patch';

export interface CowFailure {
  readonly model: Model;
  /** The entry as `mmfuzz fuzz --patch` saves it: naming the patch. */
  readonly entry: CorpusEntry;
}

let cached: Promise<CowFailure> | undefined;

async function find(): Promise<CowFailure> {
  const model = await patchedModel(COW_PATCH);
  // The workspace is a temp copy: remove it however the test run ends.
  process.once('exit', () => model.dispose());
  const r = model.runner.fuzz({ runs: 5000, seed: COW_SEED, program: COW_PROGRAM, continueOnFailure: false, campaign: 'random' });
  const f = r.violations[0];
  if (!f) throw new Error(`the COW bug was not found in ${r.runs} runs of seed ${COW_SEED}`);
  return { model, entry: entryFromFailure(f, engineHash(model.root), patchName(COW_PATCH)) };
}

export function cowFailure(): Promise<CowFailure> {
  cached ??= find();
  return cached;
}
