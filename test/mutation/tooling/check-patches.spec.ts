import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPatches, runCheckPatches } from '../../../mutation/check-patches.ts';
import { PatchApplyError } from '../../../mutation/errors.ts';
import { parsePatchHeader } from '../../../mutation/header.ts';
import type { KnownBadEntry } from '../../../mutation/known-bad.ts';
import { hashTree } from '../../../mutation/tree-hash.ts';
import { checkApplies, PROJECT_ROOT, Workspace } from '../../../mutation/workspace.ts';

const P001 = join(PROJECT_ROOT, 'mutation/patches/001-cow-no-wrprotect.patch');
const quiet = { out: () => {}, progress: () => {}, err: () => {} };

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
    const errs: string[] = [];
    assert.equal(await runCheckPatches([file], { ...quiet, err: (t) => errs.push(t), corpusDir: dir }), 2);
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /broken\.patch does not apply: engine\/mm\/memory\.ts hunk 2 .*regenerate/);
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

  it('a catch by another property than Expect: is a mismatch, not a catch (exit 1)', async () => {
    const file = join(dir, '900-wrong-expect.patch');
    const text = readFileSync(P001, 'utf8');
    const expect = parsePatchHeader(text, '001').expect;
    writeFileSync(file, text.replace(/^Expect: \S+/m, 'Expect: refcounts'));
    const out: string[] = [];
    assert.equal(await runCheckPatches([file], { ...quiet, out: (t) => out.push(t), corpusDir: dir, budget: '60s' }), 1);
    assert.match(out.join('\n'), /MISMATCH/);
    assert.ok(out.join('\n').includes(`caught by ${expect}, but its header says Expect: refcounts`), out.join('\n'));
    assert.ok(!existsSync(join(dir, '900-wrong-expect.json')), 'a mismatch is not saved to the corpus');
  });

  it('bad input exits 2: an unparsable budget, a header without Expect:', async () => {
    const errs: string[] = [];
    assert.equal(await runCheckPatches([P001], { ...quiet, err: (t) => errs.push(t), budget: 'soon' }), 2);
    const file = join(dir, 'no-expect.patch');
    writeFileSync(file, readFileSync(P001, 'utf8').replace(/^Expect:.*\n/m, ''));
    assert.equal(await runCheckPatches([file], { ...quiet, err: (t) => errs.push(t) }), 2);
    assert.match(errs[0]!, /--budget "soon" is not a duration/);
    assert.match(errs[1]!, /no-expect\.patch: the header has no "Expect:" line/);
  });
});
