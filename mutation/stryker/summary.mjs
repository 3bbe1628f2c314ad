#!/usr/bin/env node
// The per-file score table of mutation/README.md, from reports/mutation/mutation.json:
//   node mutation/stryker/summary.mjs
// Score = (killed + timeout) / (all - ignored), as Stryker's "total" column.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2] ?? new URL('../../reports/mutation/mutation.json', import.meta.url), 'utf8'));
const rows = [];
const sum = (acc, c) => {
  for (const k of Object.keys(c)) acc[k] = (acc[k] ?? 0) + c[k];
  return acc;
};
const dirs = {};
let all = {};
for (const [file, f] of Object.entries(report.files).sort()) {
  const c = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Ignored: 0 };
  for (const m of f.mutants) c[m.status] = (c[m.status] ?? 0) + 1;
  rows.push([file, c]);
  const dir = file.split('/').slice(0, 2).join('/');
  dirs[dir] = sum(dirs[dir] ?? {}, c);
  all = sum(all, c);
}
const score = (c) => {
  const valid = c.Killed + c.Timeout + c.Survived + c.NoCoverage;
  return `${((100 * (c.Killed + c.Timeout)) / valid).toFixed(1)}% (${c.Killed + c.Timeout}/${valid})`;
};
console.log('| file | score | killed | timeout | survived | no coverage | ignored |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [file, c] of rows) console.log(`| \`${file}\` | ${score(c)} | ${c.Killed} | ${c.Timeout} | ${c.Survived} | ${c.NoCoverage} | ${c.Ignored} |`);
for (const [dir, c] of Object.entries(dirs)) console.log(`| **${dir}/** | **${score(c)}** | ${c.Killed} | ${c.Timeout} | ${c.Survived} | ${c.NoCoverage} | ${c.Ignored} |`);
console.log(`| **all** | **${score(all)}** | ${all.Killed} | ${all.Timeout} | ${all.Survived} | ${all.NoCoverage} | ${all.Ignored} |`);
