import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertOneLine, lastJson, mmfuzz, spawnMmfuzz, untimed } from './helpers.ts';
import { COW_FLAGS } from '../helpers/cow-program.ts';

const COW = 'test/fixtures/cow-forgets-to-copy.patch';

describe('cli: mmfuzz', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'mmfuzz-cli-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('bad usage and bad input: exit 2, one line on stderr that says what to do', () => {
    const cases: [string, string[], RegExp][] = [
      ['--runs abc', ['fuzz', '--runs', 'abc'], /--runs "abc" is not a positive integer; write it like --runs 20000/],
      ['an unknown flag', ['fuzz', '--bogus'], /unknown option '--bogus'.*run 'mmfuzz fuzz --help'/],
      ['an unknown command', ['fuzzz'], /unknown command 'fuzzz'/],
      ['no command', [], /a command is missing; run 'mmfuzz --help'/],
      ['a bad --shard', ['fuzz', '--shard', '5/4'], /--shard "5\/4" is not i\/N with 1 <= i <= N/],
      ['a bad --time', ['fuzz', '--time', 'soon'], /--time "soon" is not a duration; write it like --time 30s, 10m or 1h/],
      ['--runs with --time', ['fuzz', '--runs', '5', '--time', '1s'], /cannot be used with/],
      ['an unknown property', ['fuzz', '--properties', 'data-integrity,nope'], /unknown property "nope"; choose from: /],
      ['no workers', ['fuzz', '--workers', '0'], /--workers "0" is not a positive integer; write it like --workers 2/],
      ['--junit naming a directory', ['fuzz', '--junit', 'test'], /--junit test: is a directory; give the path of a file in a writable directory/],
      ['a missing patch', ['fuzz', '--patch', 'nope.patch'], /patch file nope\.patch not found/],
      ['--program that is not JSON', ['fuzz', '--program', 'ops=fork'], /--program "ops=fork" is not a JSON object of generator options; write it like --program/],
      ['--program naming an unknown op', ['fuzz', '--program', '{"ops": ["fork", "frob"]}'], /--program: unknown op kind "frob"; choose from mmap, /],
      ['--program with a misspelt option', ['fuzz', '--program', '{"advise": ["WILLNEED"]}'], /--program: unknown option "advise"; choose from maxProcesses, .*advice, pinFlags/],
      ['--program naming an unknown advice', ['fuzz', '--program', '{"advice": ["HUGEPAGE"]}'], /--program: unknown advice "HUGEPAGE"; choose from DONTNEED, /],
      ['--program with a pin flag that is not a boolean', ['fuzz', '--program', '{"pinFlags": {"fast": "yes"}}'], /--program: pin flag fast must be true or false, got "yes"/],
      ['replay of a missing file', ['replay', 'nope.json'], /cannot read corpus entry nope\.json \(no such file\)/],
      ['replay --html naming a directory', ['replay', 'x.json', '--html', 'test'], /--html test: is a directory/],
      ['a missing corpus directory', ['corpus', 'list', 'no/such/dir'], /corpus directory no\/such\/dir does not exist/],
    ];
    for (const [what, argv, why] of cases) {
      it(what, async () => {
        const r = await mmfuzz(...argv);
        assert.equal(r.code, 2, r.err);
        assertOneLine(r.err);
        assert.match(r.err, why);
        assert.equal(r.out, '');
      });
    }

    it('a truncated corpus file given to replay', async () => {
      const file = join(tmp, 'truncated.json');
      writeFileSync(file, '{\n  "schema": 1,\n  "engine": "abc",\n  "prop');
      const r = await mmfuzz('replay', file);
      assert.equal(r.code, 2);
      assertOneLine(r.err);
      assert.match(r.err, /truncated\.json is not a valid corpus entry \(not JSON, perhaps truncated\); delete it or restore it from version control/);
    });

    it('a patch that does not apply names the file and the hunk', async () => {
      const patch = join(tmp, 'stale.patch');
      writeFileSync(patch, ['--- a/engine/mm/memory.ts', '+++ b/engine/mm/memory.ts', '@@ -1,2 +1,2 @@', '-no such line in the model', '+something else', ' nor this one', ''].join('\n'));
      const r = await mmfuzz('fuzz', '--patch', patch, '--runs', '10');
      assert.equal(r.code, 2, r.err);
      assertOneLine(r.err);
      assert.match(r.err, /stale\.patch does not apply: engine\/mm\/memory\.ts hunk 1 \(@@ -1,2 \+1,2 @@\)/);
    });
  });

  it('help exits 0 and lists check-patches only once mutation/ provides it', async () => {
    const r = await mmfuzz('--help');
    assert.equal(r.code, 0);
    for (const c of ['fuzz', 'replay', 'shrink', 'corpus']) assert.match(r.out, new RegExp(`\\n  ${c} `));
    assert.equal(/\n {2}check-patches /.test(r.out), existsSync('mutation/check-patches.ts'));
  });

  it('fuzz --runs 300 --seed 1 --json: exit 0, the last line is the result, the same for the same seed', async () => {
    const a = await mmfuzz('fuzz', '--runs', '300', '--seed', '1', '--json');
    assert.equal(a.code, 0, a.err);
    const j = lastJson(a.out);
    assert.equal(a.out.trimEnd().split('\n').length, 1, 'no progress output when stdout is not a TTY');
    assert.equal(j.runs, 300);
    assert.equal(j.seed, 1);
    assert.deepEqual(j.violations, []);
    for (const k of ['execsPerSec', 'elapsedMs', 'steps']) assert.equal(typeof j[k], 'number');
    const b = await mmfuzz('fuzz', '--runs', '300', '--seed', '1', '--json');
    assert.deepEqual(untimed(lastJson(b.out)), untimed(j));
  });

  it('fuzz --program focuses the campaign: the summary names its options, and it runs other programs than the default mix', async () => {
    const program = { ops: ['mmap', 'write', 'read', 'fork'], maxThreads: 1 };
    const r = await mmfuzz('fuzz', '--runs', '200', '--seed', '2', '--workers', '1', '--json', '--program', JSON.stringify(program));
    assert.equal(r.code, 0, r.err);
    const j = lastJson(r.out);
    assert.deepEqual(j.program, program);
    assert.equal(j.runs, 200);
    const other = await mmfuzz('fuzz', '--runs', '200', '--seed', '2', '--workers', '1', '--json');
    assert.notEqual(lastJson(other.out).steps, j.steps, 'a focused campaign runs other programs');
  });

  describe('on a model with a bug (fuzz --patch)', () => {
    const corpus = (): string => join(tmp, 'corpus');
    let spawned: ReturnType<typeof lastJson>;

    before(async function () {
      this.timeout(180_000);
      // As a user runs it: the real bin, a real process.
      const r = await spawnMmfuzz(['fuzz', '--random', '--patch', COW, '--no-stop-on-failure', '--runs', '5000', ...COW_FLAGS, '--json', '--corpus', corpus()]);
      assert.equal(r.code, 1, r.err);
      // Nothing on stderr but the status lines a non-TTY gets.
      assert.deepEqual(r.err.split('\n').filter((l) => l !== '' && !l.startsWith('fuzz: ')), []);
      spawned = lastJson(r.out);
      assert.match(r.out, /^VIOLATION data-integrity: /m);
    });

    it('exits 1 with a data-integrity violation, its repro and shrink stats, saved to the corpus', () => {
      assert.equal(spawned.runs, 5000);
      const [v, ...more] = spawned.violations as Record<string, any>[];
      assert.deepEqual(more, []);
      assert.equal(v!.property, 'data-integrity');
      assert.ok(v!.repro.program.processes.length > 0 && Array.isArray(v!.repro.schedule));
      assert.ok(v!.shrink.ops <= 6);
      assert.deepEqual(readdirSync(corpus()), [v!.file.split('/').pop()]);
    });

    it('the same seed gives the same result (timing aside)', async () => {
      const r = await mmfuzz('fuzz', '--random', '--patch', COW, '--no-stop-on-failure', '--runs', '5000', ...COW_FLAGS, '--json');
      const strip = (j: unknown) => JSON.parse(JSON.stringify(j, (k, v: unknown) => (k === 'file' ? undefined : v)));
      assert.deepEqual(strip(untimed(lastJson(r.out))), strip(untimed(spawned)));
    });

    it('replay of the saved entry exits 1 and prints the violation and its interleaving', async () => {
      const file = join(corpus(), readdirSync(corpus())[0]!);
      const r = await mmfuzz('replay', file);
      assert.equal(r.code, 1, r.err);
      assert.match(r.out, /^VIOLATION data-integrity: .*returned 0/m);
      assert.match(r.out, /^program:\n {2}P0\.T0: .*mmap/m);
      assert.match(r.out, /^interleaving.*:\n.*P0\.T0 /m);
      const j = lastJson((await mmfuzz('replay', file, '--json')).out);
      assert.equal(j.reproduced, true);
      assert.equal((j.violation as { property: string }).property, 'data-integrity');
    });

    it('shrink rewrites a larger entry, leaves a 1-minimal one as it is; corpus list shows it', async () => {
      const file = join(corpus(), readdirSync(corpus())[0]!);
      const before = readFileSync(file, 'utf8');
      const r = await mmfuzz('shrink', file);
      assert.equal(r.code, 1, r.err);
      assert.match(r.out, /is already minimal/);
      assert.equal(readFileSync(file, 'utf8'), before);
      // A pointless switch after the end: shrink drops it and rewrites the file.
      const bigger = JSON.parse(before);
      bigger.schedule.push({ step: 100_000, task: 0 });
      writeFileSync(join(tmp, 'bigger.json'), JSON.stringify(bigger));
      const s = await mmfuzz('shrink', join(tmp, 'bigger.json'));
      assert.equal(s.code, 1, s.err);
      assert.match(s.out, /^shrunk .*bigger\.json: /m);
      assert.deepEqual(JSON.parse(readFileSync(join(tmp, 'bigger.json'), 'utf8')).schedule, JSON.parse(before).schedule);
      const l = await mmfuzz('corpus', 'list', corpus());
      assert.match(l.out, /data-integrity {2}\d+ ops \/ \d+ switches {2}\(patch test\/fixtures\/cow-forgets-to-copy\.patch\)/);
    });

    it('corpus merge dedups; prune drops what no longer fails on its model', async () => {
      const file = readdirSync(corpus())[0]!;
      const m = await mmfuzz('corpus', 'merge', corpus(), corpus(), '--into', join(tmp, 'merged'));
      assert.match(m.out, /merged 2 entries into .*: 1 added, 0 replaced by a smaller repro, 1 already there/);
      // The same repro claimed for the clean model: there it is no bug.
      const entry = JSON.parse(readFileSync(join(corpus(), file), 'utf8'));
      delete entry.patch;
      writeFileSync(join(tmp, 'merged', 'clean.json'), JSON.stringify(entry));
      assert.equal((await mmfuzz('replay', join(tmp, 'merged', 'clean.json'))).code, 0);
      const p = await mmfuzz('corpus', 'prune', join(tmp, 'merged'));
      assert.match(p.out, /removed .*clean\.json: no longer violates data-integrity/);
      assert.deepEqual(readdirSync(join(tmp, 'merged')), [file]);
    });

    it('SIGINT stops the campaign between runs and still reports and saves what it found; a doubled Ctrl-C (npx forwards it too) is one', async () => {
      const dir = join(tmp, 'interrupted');
      let sent = false;
      const r = await spawnMmfuzz(['fuzz', '--random', '--patch', COW, '--no-stop-on-failure', '--time', '60s', ...COW_FLAGS, '--json', '--corpus', dir], (out, kill) => {
        if (!sent && out.includes('VIOLATION')) {
          sent = true;
          // The terminal's SIGINT to the process group, and npx's forwarded copy.
          kill('SIGINT');
          kill('SIGINT');
        }
      });
      assert.equal(r.code, 1, r.err);
      const j = lastJson(r.out);
      assert.equal(j.interrupted, true);
      assert.equal((j.violations as unknown[]).length, 1);
      assert.doesNotMatch(r.err, /aborted/);
      assert.equal(readdirSync(dir).length, 1);
    });
  });
});
