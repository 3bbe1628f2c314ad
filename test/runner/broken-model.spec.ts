import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Workspace } from '../../mutation/workspace.ts';
import { COW_PROGRAM, COW_SEED } from '../helpers/cow-program.ts';

type Runner = typeof import('../../runner/index.ts');
type Props = typeof import('../../properties/index.ts');

/**
 * Break the model on purpose, in a patched copy (the model itself has no bug
 * switches): wp_page_copy() forgets to copy the old page. The campaign must
 * report data-integrity with a small repro that replays identically twice.
 */
describe('runner: a broken COW path', function () {
  let ws: Workspace;
  let runner: Runner;
  let props: Props;

  before(async () => {
    ws = Workspace.create(readFileSync('test/fixtures/cow-forgets-to-copy.patch', 'utf8'), 'cow-forgets-to-copy.patch');
    runner = await ws.import<Runner>('runner/index.ts');
    props = await ws.import<Props>('properties/index.ts');
  });
  after(() => ws.dispose());

  // The plain campaign's find over the fixture op mix (test/helpers/cow-program.ts): the size bound
  // is about what the shrinker makes of it.
  it('is reported as data-integrity with a repro of at most 6 ops that replays identically twice', () => {
    const r = runner.fuzz({ runs: 5000, seed: COW_SEED, program: COW_PROGRAM, continueOnFailure: false, campaign: 'random' });
    assert.equal(r.violations.length, 1, `not found in ${r.runs} runs`);
    const f = r.violations[0]!;
    assert.equal(f.property, 'data-integrity');
    assert.ok(f.shrink.ops <= 6, `repro has ${f.shrink.ops} ops`);
    const o = { properties: props.properties, trace: true };
    const a = runner.replayCase(f.repro.program, f.repro.schedule, o);
    const b = runner.replayCase(f.repro.program, f.repro.schedule, o);
    assert.equal(a.violation?.property, 'data-integrity');
    assert.deepEqual(b.violation, a.violation);
    assert.equal(b.trace!.toText(), a.trace!.toText());
  });

  it('is 1-minimal: removing any single op or switch makes it pass', () => {
    const r = runner.fuzz({ runs: 5000, seed: COW_SEED, program: COW_PROGRAM, continueOnFailure: false, campaign: 'random' });
    const { program, schedule } = r.violations[0]!.repro;
    const o = { properties: props.properties };
    const fails = (p: typeof program, s: typeof schedule): boolean => runner.replayCase(p, s, o).violation?.property === 'data-integrity';
    program.processes.forEach((proc, pid) =>
      proc.threads.forEach((ops, tid) =>
        ops.forEach((_, i) => {
          const smaller = {
            ...program,
            processes: program.processes.map((pp, p2) => ({ threads: pp.threads.map((tt, t2) => (p2 === pid && t2 === tid ? tt.filter((__, j) => j !== i) : tt)) })),
          };
          assert.ok(!fails(smaller, schedule), `still fails without P${pid}.T${tid} op ${i}`);
        }),
      ),
    );
    schedule.forEach((_, i) => assert.ok(!fails(program, schedule.filter((__, j) => j !== i)), `still fails without switch ${i}`));
  });

  it('the clean model passes the same campaign', async () => {
    const clean = await import('../../runner/index.ts');
    const r = clean.fuzz({ runs: 1000, seed: 4 });
    assert.deepEqual(r.violations.map((v) => v.message), []);
  });
});
