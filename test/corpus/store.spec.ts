import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../corpus/atomic.ts';
import type { CorpusEntry } from '../../corpus/entry.ts';
import { CorpusDirError, CorpusFileError, CorpusFormatError } from '../../corpus/errors.ts';
import { listEntries, loadEntry, saveEntry, serializeEntry } from '../../corpus/store.ts';

const small: CorpusEntry = {
  schema: 1,
  engine: '0123456789abcdef',
  property: 'data-integrity',
  message: 'P1.T0 read r0[0].0 returned 0, allowed {7}',
  signature: 'data-integrity: PN.TN read rN[N].N returned N, allowed {…}',
  seed: 4,
  run: 17,
  program: { processes: [{ threads: [[{ op: 'mmap', region: 0, pages: 1, prot: 'rw' }, { op: 'write', region: 0, page: 0, word: 0, value: 7 }, { op: 'fork', child: 1 }]] }, { threads: [[{ op: 'read', region: 0, page: 0, word: 0 }]] }] },
  schedule: [{ step: 3, task: 1 }],
  shrink: { ops: 4, switches: 1, fromOps: 12, fromSwitches: 5, runs: 80, ms: 12 },
};
const large: CorpusEntry = { ...small, run: 3, schedule: [{ step: 3, task: 1 }, { step: 9, task: 0 }] };

describe('corpus: store', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mmfuzz-corpus-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips an entry through its file', () => {
    const { file } = saveEntry(dir, small);
    assert.deepEqual(loadEntry(file), small);
    assert.match(file, /data-integrity-[0-9a-f]{10}\.json$/);
  });

  it('writes atomically: no temp file is left, even when the rename fails', () => {
    for (let i = 0; i < 20; i++) writeFileAtomic(join(dir, 'x.json'), `${i}\n`);
    assert.deepEqual(readdirSync(dir), ['x.json']);
    mkdirSync(join(dir, 'taken.json'));
    assert.throws(() => writeFileAtomic(join(dir, 'taken.json'), 'x'));
    assert.deepEqual(readdirSync(dir).sort(), ['taken.json', 'x.json']);
  });

  it('dedups by signature and keeps the smaller repro, in one file', () => {
    const a = saveEntry(dir, large);
    const b = saveEntry(dir, small);
    assert.deepEqual([a.action, b.action], ['added', 'replaced']);
    assert.equal(b.file, a.file);
    const c = saveEntry(dir, large);
    assert.equal(c.action, 'kept');
    assert.deepEqual(readdirSync(dir), [a.file.slice(dir.length + 1)]);
    assert.deepEqual(loadEntry(a.file), small);
  });

  it('keeps a known-bad patch repro apart from a clean-model one with the same signature', () => {
    saveEntry(dir, small);
    assert.equal(saveEntry(dir, { ...small, patch: 'mutation/patches/001-x.patch' }).action, 'added');
    assert.equal(readdirSync(dir).length, 2);
  });

  it('lists only top-level entries', () => {
    saveEntry(dir, small);
    mkdirSync(join(dir, 'known-bad'));
    writeFileSync(join(dir, 'known-bad', 'a.json'), '{');
    writeFileSync(join(dir, '.a.json.1.0.tmp'), '{');
    assert.equal(listEntries(dir).length, 1);
  });

  describe('a damaged file is reported in one line that names it and says what to do', () => {
    const cases: [string, string, RegExp][] = [
      ['truncated', serializeEntry(small).slice(0, 200), /not JSON, perhaps truncated/],
      ['empty', '', /the file is empty/],
      ['without a program', JSON.stringify({ ...small, program: undefined }), /\(missing program\)/],
      ['with a wrong schema', JSON.stringify({ ...small, schema: 2 }), /schema 2 is not 1/],
      ['with an unknown op', JSON.stringify({ ...small, program: { processes: [{ threads: [[{ op: 'fly' }]] }] } }), /op 0 of P0\.T0 is not one of mmap/],
      ['with switches out of order', JSON.stringify({ ...small, schedule: [{ step: 5, task: 1 }, { step: 2, task: 0 }] }), /schedule steps do not increase/],
      ['an array', '[]', /not a JSON object/],
    ];
    for (const [what, text, why] of cases) {
      it(what, () => {
        const file = join(dir, 'bad.json');
        writeFileSync(file, text);
        assert.throws(
          () => loadEntry(file),
          (e: Error) => e instanceof CorpusFormatError && !e.message.includes('\n') && e.message.includes('bad.json') && why.test(e.message) && /delete it or restore it from version control$/.test(e.message),
        );
      });
    }
  });

  it('a missing file or directory is its own one-line error', () => {
    assert.throws(() => loadEntry(join(dir, 'nope.json')), (e: Error) => e instanceof CorpusFileError && /nope\.json \(no such file\)/.test(e.message));
    assert.throws(() => listEntries(join(dir, 'nope')), (e: Error) => e instanceof CorpusDirError && /does not exist/.test(e.message));
    writeFileSync(join(dir, 'file'), '');
    assert.throws(() => saveEntry(join(dir, 'file'), small), (e: Error) => e instanceof CorpusDirError && /is not a directory/.test(e.message));
  });

  it('writes each op and switch on one line', () => {
    const text = readFileSync(saveEntry(dir, small).file, 'utf8');
    assert.match(text, /^ {12}\{ "op": "mmap", "region": 0, "pages": 1, "prot": "rw" \},?$/m);
    assert.match(text, /^ {4}\{ "step": 3, "task": 1 \}$/m);
  });
});
