import assert from 'node:assert/strict';
import { kernelUnavailable } from '../../live/build.ts';
import { lastJson, mmfuzz } from '../cli/helpers.ts';

describe('cli: mmfuzz kernel', function () {
  this.timeout(120_000);

  it('registers diff and repro', async () => {
    const r = await mmfuzz('kernel', '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /\n {2}diff /);
    assert.match(r.out, /\n {2}repro /);
  });

  it('repro refuses an entry whose property a user cannot see (exit 2, one line)', async () => {
    const r = await mmfuzz('kernel', 'repro', 'corpus/known-bad/013-unuse-without-mmap-lock.json');
    assert.equal(r.code, 2);
    assert.match(r.err, /violates memory-safety, which a user cannot see on a kernel; give a data-integrity entry\n$/);
  });

  it('diff --thp takes always or madvise (exit 2, one line, otherwise)', async () => {
    const r = await mmfuzz('kernel', 'diff', '--thp', 'never');
    assert.equal(r.code, 2);
    assert.match(r.err, /^mmfuzz: --thp "never" is not always or madvise; write it like --thp madvise\n$/);
  });

  const why = kernelUnavailable();
  it(`diff --json: the runs, the named abstractions and what is not expressed${why ? ` (skipped: ${why})` : ''}`, async function () {
    if (why) this.skip();
    const r = await mmfuzz('kernel', 'diff', '--runs', '20', '--seed', '1', '--json');
    const j = lastJson(r.out) as { runs: number; compared: number; differences: unknown[]; notExpressed: string[] };
    assert.equal(r.code, j.differences.length ? 1 : 0);
    assert.equal(j.runs, 20);
    assert.ok(j.compared > 0);
    assert.ok(j.notExpressed.some((l) => l.startsWith('exec: ')));
    assert.match(r.out, /named abstractions/);
  });
});
