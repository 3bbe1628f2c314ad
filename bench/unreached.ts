// The branches of the model a default (coverage-guided) campaign never reaches:
//   npx tsx --import ./runner/coverage/register.ts bench/unreached.ts SECONDS [SEED] > unreached.txt
// Runs the guided campaign in this process for SECONDS (all properties; a
// violation is counted, not shrunk), then prints the runs and, per file of
// engine/mm, engine/kernel and engine/fs, the sites no run reached (line,
// kind, function), and a JSON summary on the last line.
import { properties } from '../properties/index.ts';
import { GuidedCampaign } from '../runner/guided-campaign.ts';

const seconds = Number(process.argv[2] ?? 600);
const seed = Number(process.argv[3] ?? 0);
const g = new GuidedCampaign(seed, {});
const co = { properties };
const t0 = performance.now();
let runs = 0;
let violations = 0;
for (let i = 0; performance.now() - t0 < seconds * 1000; i++, runs++) {
  const { input } = g.next(i);
  if (g.run(input, co).violation) violations++;
}
const miss = g.unreached();
const byFile = new Map<string, typeof miss>();
for (const m of miss) byFile.set(m.file, [...(byFile.get(m.file) ?? []), m]);
for (const [file, ms] of [...byFile].sort()) {
  console.log(`${file}: ${ms.length} unreached`);
  for (const m of ms) console.log(`  ${m.line} ${m.kind} ${m.fn}`);
}
const c = g.results(false).coverage;
console.log(JSON.stringify({ seconds, seed, runs, violations, branchSites: c.branchSites, branchesReached: c.branchesReached, unreached: miss.length, queue: c.queue, level: c.level }));
