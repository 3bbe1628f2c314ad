#!/usr/bin/env node
// List the mutants Stryker did not kill, grouped by file and function, from
// reports/mutation/mutation.json: the input to the triage in mutation/README.md.
//   node mutation/stryker/survivors.mjs [FILTER] [REPORT]     e.g. FILTER = rmap.ts
// REPORT defaults to reports/mutation/mutation.json.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[3] ?? new URL('../../reports/mutation/mutation.json', import.meta.url), 'utf8'));
const filter = process.argv[2] ?? '';

/** The innermost `function name` / `function* name` / `name(` declaration above a line. */
function enclosing(lines, line) {
  for (let i = line - 1; i >= 0; i--) {
    const m = /^(?:export )?(?:async )?function\*? ?(\w+)|^ {2}(?:static |override |get )?\*?(\w+)\(.*\)[^;]*\{$/.exec(lines[i]);
    if (m) return m[1] ?? m[2];
  }
  return '(top level)';
}

for (const [file, f] of Object.entries(report.files).sort()) {
  if (!file.includes(filter)) continue;
  const lines = f.source.split('\n');
  const groups = new Map();
  for (const m of f.mutants) {
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
    const fn = enclosing(lines, m.location.start.line - 1);
    const text = lines[m.location.start.line - 1].trim().slice(0, 100);
    const list = groups.get(fn) ?? [];
    list.push(`  ${m.status === 'NoCoverage' ? 'nocov' : 'surv '} ${m.location.start.line}: ${m.mutatorName} -> ${String(m.replacement ?? '').slice(0, 50)} | ${text}`);
    groups.set(fn, list);
  }
  if (groups.size === 0) continue;
  console.log(`\n${file}`);
  for (const [fn, list] of groups) console.log(` ${fn} (${list.length})\n${list.join('\n')}`);
}
