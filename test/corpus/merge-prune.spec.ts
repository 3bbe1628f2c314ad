import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CorpusEntry } from '../../corpus/entry.ts';
import { engineHash } from '../../project/engine-hash.ts';
import { mergeCorpora } from '../../corpus/merge.ts';
import { pruneCorpus } from '../../corpus/prune.ts';
import { saveEntry, writeEntry } from '../../corpus/store.ts';
import { PROJECT_ROOT } from '../../project/root.ts';
import { cowFailure } from '../helpers/cow-failure.ts';

/** The same bug with one more (pointless) switch: a larger repro. */
function larger(e: CorpusEntry): CorpusEntry {
  const last = e.schedule.at(-1)?.step ?? 0;
  return { ...e, schedule: [...e.schedule, { step: last + 1000, task: 0 }] };
}

/** The patched model's repro, claimed for the clean model: another bug key, and one that does not reproduce. */
function onCleanModel(e: CorpusEntry): CorpusEntry {
  const { patch: _, ...rest } = e;
  return rest;
}

describe('corpus: merge and prune', function () {
  this.timeout(60_000);
  let tmp: string;
  const dir = (name: string): string => join(tmp, name);
  beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), 'mmfuzz-corpus-'))));
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('merge: one file per bug, the smaller repro wins', async () => {
    const { entry } = await cowFailure();
    saveEntry(dir('a'), larger(entry));
    saveEntry(dir('b'), entry);
    saveEntry(dir('b'), onCleanModel(entry));
    const r = mergeCorpora([dir('a'), dir('b')], dir('all'));
    assert.deepEqual([r.added, r.replaced, r.kept], [2, 1, 0]);
    assert.equal(readdirSync(dir('all')).length, 2);
    assert.deepEqual(mergeCorpora([dir('b')], dir('all')).kept, 2);
  });

  it('prune: drops duplicates and entries that no longer reproduce, keeps the rest', async () => {
    const { entry } = await cowFailure();
    const keep = saveEntry(dir('c'), entry).file;
    // Written side by side under other names, as a hand merge would leave them.
    writeEntry(join(dir('c'), 'dup.json'), larger(entry));
    writeEntry(join(dir('c'), 'stale.json'), onCleanModel(entry));
    const pruned = await pruneCorpus(dir('c'), { dryRun: true });
    assert.deepEqual(
      pruned.map((p) => [p.file.slice(tmp.length + 3), p.why.split(' ').slice(0, 4).join(' ')]),
      [
        ['dup.json', `duplicate of ${keep}`],
        ['stale.json', 'no longer violates data-integrity'],
      ],
    );
    assert.equal(readdirSync(dir('c')).length, 3);
    await pruneCorpus(dir('c'));
    assert.deepEqual(readdirSync(dir('c')), [keep.slice(dir('c').length + 1)]);
  });

  it('the engine hash is the tree it is given: a patched copy has its own', async () => {
    const { model, entry } = await cowFailure();
    assert.match(entry.engine, /^[0-9a-f]{16}$/);
    assert.equal(engineHash(model.root), entry.engine);
    assert.notEqual(engineHash(PROJECT_ROOT), entry.engine);
  });
});
