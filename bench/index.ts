// `npm run bench`: prints a table and writes bench/results.json.
import { writeFileSync, renameSync } from 'node:fs';
import { benchEngineToy } from './engine-toy.ts';

const engine = benchEngineToy(Number(process.env.BENCH_SECONDS ?? 3));
const rows: [string, string][] = [
  ['engine toy: steps/s', engine.stepsPerSec.toFixed(0)],
  ['engine toy: ns/step', engine.nsPerStep.toFixed(1)],
  ['floor (bare generator resume): ns/step', engine.floorNsPerStep.toFixed(1)],
];
const w = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
const out = 'bench/results.json';
writeFileSync(`${out}.tmp`, JSON.stringify({ node: process.version, engineToy: engine }, null, 2) + '\n');
renameSync(`${out}.tmp`, out);
