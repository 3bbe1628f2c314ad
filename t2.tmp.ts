import { readFileSync } from 'node:fs';
import { Workspace } from './mutation/workspace.ts';
const ws = Workspace.create(readFileSync('test/fixtures/cow-forgets-to-copy.patch', 'utf8'), 'cow-forgets-to-copy.patch');
const runner: any = await ws.import('runner/index.ts');
for (const seed of [11, 12, 13, 14, 15, 16, 17, 18]) {
  const r = runner.fuzz({ runs: 5000, seed, continueOnFailure: false, campaign: 'random' });
  const f = r.violations[0];
  console.log(seed, r.runs, f ? `${f.property} ops=${f.shrink.ops}` : 'none');
}
ws.dispose();
