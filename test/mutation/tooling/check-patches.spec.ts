import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPatches } from '../../../mutation/check-patches.ts';
import { mmfuzz } from '../../cli/helpers.ts';
import { PatchApplyError } from '../../../project/errors.ts';
import { parsePatchHeader } from '../../../mutation/header.ts';
import type { KnownBadEntry } from '../../../mutation/known-bad.ts';
import { hashTree } from '../../../project/tree-hash.ts';
import { checkApplies } from '../../../project/patch-apply.ts';
import { PROJECT_ROOT } from '../../../project/root.ts';
import { Workspace } from '../../../project/workspace.ts';

const P001 = join(PROJECT_ROOT, 'mutation/patches/001-cow-no-wrprotect.patch');

/** 001 with a second hunk whose context is not in memory.ts: hunk 1 applies, hunk 2 does not. */
function brokenPatch(): string {
  const good = readFileSync(P001, 'utf8');
  const bad = ['@@ -500,3 +500,3 @@ function nowhere(', ' const this_line = "is not in memory.ts";', '-const neither = 1;', '+const neither = 2;', ' // nor this one', ''].join('\n');
  return good.endsWith('\n') ? good + bad : `${good}\n${bad}`;
}

describe('mutation/check-patches', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mmfuzz-cp-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a patch that does not apply is a PatchApplyError naming its hunk, and engine/ is untouched', async () => {
    const engine = join(PROJECT_ROOT, 'engine');
    const before = hashTree(engine);
    const text = brokenPatch();
    assert.throws(() => Workspace.create(text, 'broken.patch'), (e: unknown) => e instanceof PatchApplyError && e.file === 'engine/mm/memory.ts' && /^hunk 2 /.test(e.hunk));
    assert.throws(() => checkApplies(text, 'broken.patch'), PatchApplyError);
    const file = join(dir, 'broken.patch');
    writeFileSync(file, text);
    const r = await mmfuzz('check-patches', file);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trimEnd().split('\n').length, 1);
    assert.match(r.err, /broken\.patch does not apply: engine\/mm\/memory\.ts hunk 2 .*regenerate/);
    assert.equal(hashTree(engine), before);
    assert.ok(!existsSync(join(dir, 'broken.json')));
  });

  it('001-cow-no-wrprotect is caught by the property its header expects, and its repro saved', async () => {
    const expect = parsePatchHeader(readFileSync(P001, 'utf8'), '001').expect;
    const lines: string[] = [];
    const [r] = await checkPatches([P001], { budgetMs: 60_000, json: true, corpusDir: dir, out: (t) => lines.push(t), progress: () => {} });
    assert.equal(r!.caught, true, `not caught in ${r!.runs} runs`);
    assert.equal(r!.property, expect);
    assert.ok(r!.ops! <= 6, `repro has ${r!.ops} ops`);
    const json = JSON.parse(lines.at(-1)!) as { patches: { name: string; caught: boolean; property: string; repro: unknown }[] };
    assert.deepEqual(
      json.patches.map((p) => [p.name, p.caught, p.property]),
      [['001-cow-no-wrprotect.patch', true, expect]],
    );
    const e = JSON.parse(readFileSync(join(dir, '001-cow-no-wrprotect.json'), 'utf8')) as KnownBadEntry;
    assert.equal(e.schema, 1);
    assert.equal(e.patch, '001-cow-no-wrprotect.patch');
    assert.equal(e.thread, '003_dcb31648f558f9b9.txt');
    assert.equal(e.property, expect);
    // fast-check builds null-prototype objects: compare as data.
    assert.deepEqual(e.program, JSON.parse(JSON.stringify(r!.repro!.program)));
    assert.deepEqual(e.schedule, JSON.parse(JSON.stringify(r!.repro!.schedule)));
  });

  it('a catch by another property than Expect: is a mismatch, not a catch', async () => {
    const file = join(dir, '900-wrong-expect.patch');
    const text = readFileSync(P001, 'utf8');
    const expect = parsePatchHeader(text, '001').expect;
    writeFileSync(file, text.replace(/^Expect: \S+/m, 'Expect: refcounts'));
    const out: string[] = [];
    const [r] = await checkPatches([file], { budgetMs: 60_000, out: (t) => out.push(t), progress: () => {}, corpusDir: dir });
    assert.equal(r!.caught, false);
    assert.match(out.join('\n'), /MISMATCH/);
    assert.ok(out.join('\n').includes(`caught by ${expect}, but its header says Expect: refcounts`), out.join('\n'));
    assert.ok(!existsSync(join(dir, '900-wrong-expect.json')), 'a mismatch is not saved to the corpus');
  });

  it('a repro is written only when it changed, or with update', async () => {
    const run = (update?: boolean) => checkPatches([P001], { budgetMs: 60_000, corpusDir: dir, update, out: () => {}, progress: () => {} });
    const [first] = await run();
    assert.equal(first!.corpusWritten, true);
    const file = join(dir, '001-cow-no-wrprotect.json');
    // Timings differ from check to check: they alone do not make a new repro.
    const timed = JSON.parse(readFileSync(file, 'utf8')) as KnownBadEntry;
    writeFileSync(file, `${JSON.stringify({ ...timed, shrink: { ...timed.shrink, ms: 123456 } }, null, 2)}\n`);
    const [again] = await run();
    assert.equal(again!.corpusWritten, false);
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as KnownBadEntry).shrink.ms, 123456);
    const [forced] = await run(true);
    assert.equal(forced!.corpusWritten, true);
    assert.notEqual((JSON.parse(readFileSync(file, 'utf8')) as KnownBadEntry).shrink.ms, 123456);
  });

  it('bad input exits 2: an unparsable budget, a header without Expect:', async () => {
    const a = await mmfuzz('check-patches', P001, '--budget', 'soon');
    const file = join(dir, 'no-expect.patch');
    writeFileSync(file, readFileSync(P001, 'utf8').replace(/^Expect:.*\n/m, ''));
    const b = await mmfuzz('check-patches', file);
    assert.deepEqual([a.code, b.code], [2, 2]);
    assert.match(a.err, /--budget "soon" is not a duration/);
    assert.match(b.err, /no-expect\.patch: the header has no "Expect:" line/);
  });
});
