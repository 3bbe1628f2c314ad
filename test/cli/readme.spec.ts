import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpKind } from '../../engine/program/ops.ts';
import { makeStrategy, type ProgramArbOptions } from '../../generators/index.ts';
import { PROJECT_ROOT } from '../../project/root.ts';
import { properties } from '../../properties/index.ts';
import { caseArb, generateCase, runCase } from '../../runner/index.ts';
import { lastJson, mmfuzz } from './helpers.ts';

const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

/** Every `npx mmfuzz fuzz ...` line of the README's code blocks, as argv. */
function fuzzCommands(): string[][] {
  const out: string[][] = [];
  for (const line of README.split('\n')) {
    const m = /^npx mmfuzz (fuzz .*?)\s*(#.*)?$/.exec(line);
    if (!m) continue;
    out.push([...m[1]!.matchAll(/'([^']*)'|(\S+)/g)].map((x) => x[1] ?? x[2]!));
  }
  return out;
}

/** The command with a short budget: --runs 30 on one worker, JSON out, nothing saved in the checkout. */
function short(argv: readonly string[], corpus: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (['--runs', '--time', '--workers', '--corpus', '--shard'].includes(argv[i]!)) i++;
    else if (argv[i] === '--patch') out.push(argv[i]!, 'test/fixtures/cow-forgets-to-copy.patch', ((i += 1), '--no-stop-on-failure'));
    else if (argv[i] !== '--json') out.push(argv[i]!);
  }
  return argv.includes('--run') ? [...out, '--json', '--corpus', corpus] : [...out, '--runs', '30', '--workers', '1', '--json', '--corpus', corpus];
}

describe('README: every fuzz example does what it says', function () {
  this.timeout(120_000);
  const commands = fuzzCommands();

  it('the README has fuzz examples, --program ones among them', () => {
    assert.ok(commands.length >= 5, `${commands.length} commands`);
    assert.ok(commands.some((c) => c.includes('--program')));
  });

  for (const argv of commands) {
    it(`mmfuzz ${argv.join(' ')}`, async () => {
      const r = await mmfuzz(...short(argv, join(PROJECT_ROOT, '.scratch', 'readme-corpus')));
      assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.err}`);
      assert.ok((lastJson(r.out).runs as number) >= 1);
      const program = argv[argv.indexOf('--program') + 1];
      if (!argv.includes('--program') || !program) return;
      // A focused campaign reaches the ops it names: each one succeeds in some run (a WILLNEED with nothing mapped is EINVAL every time).
      const o = JSON.parse(program) as ProgramArbOptions & { advice?: string[] };
      const arb = caseArb(o);
      const succeeded = new Set<string>();
      for (let i = 0; i < 200 && succeeded.size < o.ops!.length; i++) {
        const c = generateCase(arb, 0, i);
        const run = runCase(c.program, makeStrategy(c.schedule), { properties });
        for (const rec of run.history.records) if (rec.result >= 0 && o.ops!.includes(rec.op.op)) succeeded.add(rec.op.op);
      }
      assert.deepEqual((o.ops as OpKind[]).filter((k) => !succeeded.has(k)), [], `ops of ${program} that never succeeded in 200 runs`);
    });
  }
});
