import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelCache } from '../../corpus/model.ts';
import { replayEntry } from '../../corpus/replay.ts';
import { loadEntry } from '../../corpus/store.ts';
import { PROJECT_ROOT } from '../../project/root.ts';
import { CHROMIUM, screenshot } from './chromium.ts';
import { assertOneLine, lastJson, mmfuzz, type Ran } from './helpers.ts';
import { decodePng } from './png.ts';
import { COW_FLAGS, COW_SEED } from '../helpers/cow-program.ts';

const COW = resolve('test/fixtures/cow-forgets-to-copy.patch');
const K011 = join(PROJECT_ROOT, 'corpus/known-bad/011-hugetlb-unshare-without-i-mmap-rwsem.json');

/** `node cli/bin.js ...` run from another directory (where ./mmfuzz-out/ lands), as a user runs it. */
function mmfuzzIn(dir: string, ...argv: string[]): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'cli/bin.js'), ...argv], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let [out, err] = ['', ''];
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, out, err }));
  });
}

describe('cli: a failure a kernel developer can find again and read', function () {
  this.timeout(180_000);
  let tmp: string;
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'mmfuzz-ux-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('finding it again', () => {
    let text: string;
    let run: number;
    let file: string;
    before(async () => {
      const r = await mmfuzzIn(tmp, 'fuzz', '--random', '--patch', COW, '--runs', '3000', ...COW_FLAGS, '--workers', '1');
      assert.equal(r.code, 1, r.err);
      text = r.out;
      run = Number(new RegExp(`^ {2}found by run (\\d+) of seed ${COW_SEED};`, 'm').exec(text)?.[1]);
      file = /^saved to (\S+)$/m.exec(text)?.[1] ?? '';
    });

    it('without --corpus every failure is saved to ./mmfuzz-out/, and the report ends with the command that reproduces it', () => {
      assert.match(file, /^mmfuzz-out\/data-integrity-\w+\.json$/);
      assert.deepEqual(readdirSync(join(tmp, 'mmfuzz-out')), [file.split('/').pop()]);
      assert.ok(text.includes(`saved to ${file}\nreproduce: npx mmfuzz replay ${file}\n`), text.slice(-600));
      assert.match(text, new RegExp(`^data-integrity: reproduce with npx mmfuzz replay ${file.replace(/[.]/g, '\\.')}$`, 'm'));
    });

    it('--patch stops at the first failure: the runs end with the one that found it', () => {
      assert.match(text, new RegExp(`^fuzz: ${run + 1} runs in `, 'm'));
      assert.match(text, /stopped at the first failure/);
    });

    it('fuzz --seed S --run N re-runs that one run and finds the same repro', async () => {
      const saved = loadEntry(join(tmp, file));
      const r = await mmfuzz('fuzz', '--random', '--patch', COW, ...COW_FLAGS, '--run', String(run), '--json', '--corpus', join(tmp, 'again'));
      assert.equal(r.code, 1, r.err);
      const j = lastJson(r.out);
      assert.equal(j.runs, 1);
      const v = (j.violations as { run: number; signature: string; repro: unknown }[]).map((x) => [x.run, x.signature, x.repro]);
      assert.deepEqual(v, [[run, saved.signature, JSON.parse(JSON.stringify({ program: saved.program, schedule: saved.schedule }))]]);
    });
  });

  describe('one judgement', () => {
    it('replay, prune and the specs agree on every committed entry: prune --dry-run keeps them all', async () => {
      for (const dir of ['corpus', 'corpus/known-bad']) {
        const r = await mmfuzz('corpus', 'prune', '--dry-run', join(PROJECT_ROOT, dir));
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /^0 entries would be pruned from /m, r.out);
      }
    });

    it('replay of known-bad 011 fails as its spec says: the walk that met the freed PTE table is rmap-completeness\'s finding', async () => {
      const e = loadEntry(K011);
      const models = new ModelCache();
      try {
        const judged = replayEntry(e, await models.get(e.patch));
        const r = await mmfuzz('replay', K011, '--json');
        assert.equal(r.code, 1, r.err);
        const j = lastJson(r.out);
        assert.deepEqual([j.reproduced, (j.violation as { property: string }).property], [true, e.property]);
        assert.equal(judged.verdict, 'reproduced');
      } finally {
        await models.dispose();
      }
    });

    it('the text report gives each step its kernel function stack and fits 120 columns', async () => {
      const r = await mmfuzz('replay', K011);
      assert.equal(r.code, 1, r.err);
      const lines = r.out.trimEnd().split('\n');
      assert.ok(lines.every((l) => l.length <= 120), `a line of ${Math.max(...lines.map((l) => l.length))} columns`);
      assert.match(r.out, /^ +\d+ P1\.T0 +│ .*\[hugetlbfs_punch_hole > /m);
      assert.match(r.out, /^ +P0\.T0 +┌ fork P1$/m);
      assert.match(r.out, /^>> +\d+ /m);
    });
  });

  it('the HTML report shows the kernel function stack the violation was detected in (screenshot), and on hover for every step', async function () {
    const html = join(tmp, 'r013.html');
    const r = await mmfuzz('replay', join(PROJECT_ROOT, 'corpus/known-bad/013-unuse-without-mmap-lock.json'), '--html', html);
    assert.equal(r.code, 1, r.err);
    const text = readFileSync(html, 'utf8');
    assert.match(text, /detected at step \d+ in <span class="kstack">sys_swapoff › try_to_unuse › unuse_mm\b/);
    assert.ok((text.match(/ title="[a-z_]+( › [a-z_]+)*" data-stack=/g) ?? []).length > 20, 'steps carry their stacks');
    assert.match(text, /class="op begin">swapon dev\d/);
    assert.match(text, /class="st named" data-named="\d+"/);
    if (!existsSync(CHROMIUM)) this.skip(); // `apt-get install -y chromium` (.ci/run does)
    const png = join(tmp, 'r013.png');
    screenshot(html, png);
    const img = decodePng(readFileSync(png));
    // The stack's box: a band of #8250df wider than 150 pixels near the top, under the message.
    const purple = (x: number, y: number): boolean => img.rgb(x, y).every((v, i) => Math.abs(v - [0x82, 0x50, 0xdf][i]!) <= 6);
    const band = Array.from({ length: 400 }, (_, y) => y).find((y) => {
      let run = 0;
      let best = 0;
      for (let x = 0; x < img.width; x++) best = Math.max(best, (run = purple(x, y) ? run + 1 : 0));
      return best > 150;
    });
    assert.ok(band !== undefined, 'no function-stack box in the screenshot');
  });

  describe('bad input', () => {
    const LINE = 'if (yield* anon_vma_prepare(vma)) return VM_FAULT_OOM;';
    /** A one-line diff of engine/mm/memory.ts that turns the line holding LINE's text `from` into `to`. */
    const diffLine = (from: (l: string) => string, to: (l: string) => string): string => {
      const rel = 'engine/mm/memory.ts';
      const lines = readFileSync(join(PROJECT_ROOT, rel), 'utf8').split('\n');
      const i = lines.findIndex((l) => l.includes(LINE));
      return [`--- a/${rel}`, `+++ b/${rel}`, `@@ -${i + 1},1 +${i + 1},1 @@`, `-${from(lines[i]!)}`, `+${to(lines[i]!)}`, ''].join('\n');
    };

    it('a patch that does not load is bad input naming the file and line in the tree', async () => {
      const file = join(tmp, 'syntax.patch');
      writeFileSync(file, diffLine((l) => l, (l) => `${l} ){{`));
      const r = await mmfuzz('fuzz', '--patch', file, '--runs', '5', '--workers', '1', '--corpus', join(tmp, 'c1'));
      assert.equal(r.code, 2, r.err);
      assertOneLine(r.err);
      assert.match(r.err, /syntax\.patch applies but the patched model does not load: engine\/mm\/memory\.ts:\d+:\d+: /);
      assert.doesNotMatch(r.err, /mmfuzz-ws-/);
    });

    it('a patch already applied says so', async () => {
      const file = join(tmp, 'applied.patch');
      // Its + side is the tree's text already: someone applied it to the checkout.
      writeFileSync(file, diffLine((l) => l.replace('VM_FAULT_OOM', 'VM_FAULT_SIGBUS'), (l) => l));
      const r = await mmfuzz('fuzz', '--patch', file, '--runs', '5', '--corpus', join(tmp, 'c2'));
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /applied\.patch is already applied to engine\/mm\/memory\.ts/);
    });

    it('a corrupt file in a corpus directory is a warning naming it; the rest goes on', async () => {
      const dir = join(tmp, 'mixed');
      mkdirSync(dir);
      copyFileSync(K011, join(dir, 'good.json'));
      writeFileSync(join(dir, 'bad.json'), '{"schema": 1, "eng');
      const r = await mmfuzz('corpus', 'list', dir);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /^mmfuzz: warning: .*bad\.json is not a valid corpus entry/);
      assert.match(r.out, /good\.json/);
      assert.match(r.out, /^1 entry in /m);
      rmSync(join(dir, 'good.json'));
      assert.equal((await mmfuzz('corpus', 'list', dir)).code, 2, 'nothing could be read');
    });
  });
});
