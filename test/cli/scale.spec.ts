import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FoundSet } from '../../cli/campaign/merge.ts';
import type { Found } from '../../cli/campaign/messages.ts';
import { planWorkers } from '../../cli/campaign/partition.ts';
import { Campaign } from '../../cli/campaign/run.ts';
import { patchedModel, type Model } from '../../corpus/model.ts';
import { PROJECT_ROOT } from '../../project/root.ts';
import type { Failure } from '../../runner/index.ts';
import { COW, COW_FLAGS, COW_PROGRAM, cowCampaign, RUNS, SEED } from './cow-campaign.ts';
import { interruptMmfuzz, lastJson, mmfuzz } from './helpers.ts';
import { findAll, parseXml } from './xml.ts';

/** The run indices a plan's workers run, in a campaign of `runs`. */
function indices(plans: ReturnType<typeof planWorkers>): number[] {
  return plans.flatMap((p) => Array.from({ length: p.runs! }, (_, k) => p.shard.index + k * p.shard.count));
}

const signatures = (j: Record<string, any>): string[] => [...new Set((j.violations as Failure[]).map((v) => v.signature))].sort();
const corpusSignatures = (dir: string): string[] => readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).signature as string).sort();

// The sharding contract (run i is the same whatever the shards and workers) is the plain random campaign's (--random):
// the guided campaign's mutants depend on what each worker's queue found (runner/guided.ts).
describe('cli: campaigns at scale (workers, shards, signals)', function () {
  this.timeout(300_000);
  let tmp: string;
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'mmfuzz-scale-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('the split of a campaign', () => {
    it('shards × workers run every index below --runs exactly once, whatever N and W', () => {
      for (const count of [1, 2, 3, 5]) {
        for (const workers of [1, 2, 3, 4]) {
          for (const runs of [1, 2, 3, 7, 20, 101]) {
            const all = Array.from({ length: count }, (_, index) => indices(planWorkers({ index, count }, workers, runs))).flat();
            assert.deepEqual(all.sort((a, b) => a - b), Array.from({ length: runs }, (_, i) => i), `N=${count} W=${workers} runs=${runs}`);
          }
        }
      }
    });

    it('with --time each worker streams its own residue class of its shard, and none is idle', () => {
      const plans = planWorkers({ index: 1, count: 3 }, 2, undefined);
      assert.deepEqual(plans, [
        { shard: { index: 1, count: 6 }, runs: undefined },
        { shard: { index: 4, count: 6 }, runs: undefined },
      ]);
    });

    it('merging keeps one failure per signature: the smaller repro, on a tie the earlier run', () => {
      const op = { op: 'read', region: 0, page: 0, word: 0 } as const;
      const found = (run: number, ops: number, signature = 's'): Found =>
        ({ failure: { signature, run, repro: { program: { processes: [{ threads: [Array(ops).fill(op)] }] }, schedule: [] } }, report: '', view: undefined }) as unknown as Found;
      const set = new FoundSet();
      assert.equal(set.add(found(9, 5)), 'new');
      assert.equal(set.add(found(4, 6)), undefined);
      assert.equal(set.add(found(7, 3)), 'smaller');
      assert.equal(set.add(found(2, 3)), 'smaller');
      assert.equal(set.add(found(3, 3)), undefined);
      assert.equal(set.add(found(1, 9, 't')), 'new');
      assert.deepEqual(set.list().map((f) => [f.failure.signature, f.failure.run]), [['t', 1], ['s', 2]]);
    });
  });

  describe('on a model with a bug (the COW patch)', () => {
    let model: Model;
    before(async () => (model = await patchedModel(COW)));
    after(() => model.dispose());

    /** Each violation's repro is the one run `run` gives on its own: a worker or shard changes nothing in a run. */
    function assertReprosOfTheirRuns(j: Record<string, any>): void {
      for (const v of j.violations as Failure[]) {
        const alone = model.runner.fuzz({ campaign: 'random', seed: Number(SEED), program: COW_PROGRAM, runs: 1, shard: { index: v.run, count: 2 ** 31 } }).violations[0];
        assert.ok(alone, `run ${v.run} alone finds nothing`);
        assert.deepEqual([v.signature, v.repro], [alone.signature, JSON.parse(JSON.stringify(alone.repro))], `run ${v.run}`);
      }
    }

    it('shards 1/2 and 2/2 together are the unsharded campaign: the same runs, violations and corpus', async () => {
      const whole = await cowCampaign();
      const shard = async (s: string) => {
        const r = await mmfuzz('fuzz', '--random', '--patch', COW, '--no-stop-on-failure', '--runs', String(RUNS), ...COW_FLAGS, '--shard', s, '--workers', '1', '--json', '--corpus', join(tmp, s.replace('/', 'of')));
        assert.ok(r.code === 0 || r.code === 1, r.err);
        return lastJson(r.out);
      };
      const [a, b] = [await shard('1/2'), await shard('2/2')];
      assert.equal(a.runs, RUNS / 2);
      assert.equal((a.runs as number) + (b.runs as number), whole.json.runs);
      assert.deepEqual([...new Set([...signatures(a), ...signatures(b)])].sort(), signatures(whole.json));
      assert.ok(signatures(whole.json).some((s) => s.startsWith('data-integrity: ')), 'the COW bug was found');
      assertReprosOfTheirRuns(a);
      assertReprosOfTheirRuns(b);
      // What the nightly's last job does with the shards' corpora.
      const merged = join(tmp, 'merged');
      const m = await mmfuzz('corpus', 'merge', join(tmp, '1of2'), join(tmp, '2of2'), '--into', merged);
      assert.equal(m.code, 0, m.err);
      assert.deepEqual(corpusSignatures(merged), corpusSignatures(whole.corpus));
    });

    it('--workers 2 finds what --workers 1 finds, with the same repro for the same run', async () => {
      const one = (await cowCampaign()).json;
      const r = await mmfuzz('fuzz', '--random', '--patch', COW, '--no-stop-on-failure', '--runs', String(RUNS), ...COW_FLAGS, '--workers', '2', '--json');
      assert.equal(r.code, 1, r.err);
      const two = lastJson(r.out);
      assert.equal(two.workers, 2);
      assert.equal(two.runs, one.runs);
      assert.deepEqual(signatures(two), signatures(one));
      assertReprosOfTheirRuns(two);
    });
  });

  it('a worker cut short (a stop that a long shrink would delay) ends its thread, with its runs so far', async () => {
    let started: () => void;
    let seen = 0;
    const progressed = new Promise<void>((resolve) => (started = resolve));
    const c = new Campaign(PROJECT_ROOT, { runs: 1e9, seed: 0 }, { onProgress: (p) => ((seen = p.runs), started()) });
    await progressed;
    c.cutShort();
    const r = await c.done;
    // Ended by the cut, not by finishing: a billion runs are not done, and the thread reported no result of its own.
    assert.deepEqual([r.cutShort, r.interrupted], [true, true]);
    assert.ok(r.runs >= seen && r.runs < 1e9, `${r.runs} runs (progress had said ${seen})`);
    assert.equal(r.steps, 0, 'a cut-short thread sent no result, so its steps are unknown');
  });

  it('SIGTERM: the campaign stops within a second, keeps its repros, prints the summary and writes the outputs', async () => {
    const dir = join(tmp, 'term');
    const out = (f: string): string => join(dir, 'out', f);
    const r = await interruptMmfuzz(
      ['fuzz', '--random', '--patch', COW, '--no-stop-on-failure', '--time', '60s', '--workers', '2', '--json', '--corpus', join(dir, 'corpus'), '--junit', out('junit.xml'), '--html', out('report.html'), '--summary', out('summary.json')],
      'SIGTERM',
      1000,
    );
    const j = lastJson(r.out);
    assert.equal(j.interrupted, true);
    assert.equal(r.code, (j.violations as unknown[]).length > 0 ? 1 : 0, r.err);
    assert.match(r.err, /stopping after the current run/);
    assert.deepEqual(corpusSignatures(join(dir, 'corpus')), signatures(j));
    assert.deepEqual(JSON.parse(readFileSync(out('summary.json'), 'utf8')).runs, j.runs);
    assert.equal(findAll(parseXml(readFileSync(out('junit.xml'), 'utf8')), 'failure').length, new Set((j.violations as Failure[]).map((v) => v.property)).size);
    assert.match(readFileSync(out('report.html'), 'utf8'), /stopped early/);
  });
});
