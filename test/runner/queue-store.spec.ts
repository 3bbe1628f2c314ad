import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzz } from '../../runner/index.ts';
import { loadQueue, QueueFileError, queueDir, saveQueue } from '../../runner/queue-store.ts';

describe('runner: the saved queue (fuzz --corpus)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mmfuzz-queue-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves each input once and loads them back in a fixed order', () => {
    const q = fuzz({ runs: 120, seed: 2, keepQueue: true }).queue!;
    assert.equal(saveQueue(dir, q), new Set(q.map((x) => JSON.stringify(x))).size);
    assert.equal(saveQueue(dir, q), 0, 'saved twice');
    const back = loadQueue(dir);
    assert.deepEqual(new Set(back.map((x) => JSON.stringify(x))), new Set(q.map((x) => JSON.stringify(x))));
    assert.deepEqual(loadQueue(dir), back);
  });

  it('an empty corpus has an empty queue; a damaged file is named', () => {
    assert.deepEqual(loadQueue(dir), []);
    saveQueue(dir, []);
    writeFileSync(join(queueDir(dir), 'bad.json'), '{"program": 1}');
    assert.throws(() => loadQueue(dir), (e: unknown) => e instanceof QueueFileError && /bad\.json is not a program and schedule/.test(e.message));
  });
});
