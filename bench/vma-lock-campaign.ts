/**
 * Campaigns over faults without mmap_lock, on the clean model:
 *   npx tsx bench/vma-lock-campaign.ts [runs] [mode...]
 * mode: vma-lock | spf | vma-lock-race | spf-race (default: all four).
 * The plain modes use the default generator with that fault mode; the -race
 * ones the 'vma-race' mix (faults against munmap/mremap/mprotect/fork).
 */
import { fuzz } from '../runner/index.ts';
import type { ProgramArbOptions } from '../generators/index.ts';

const runs = Number(process.argv[2] ?? 20000);
const modes = process.argv.slice(3);
const all: Record<string, ProgramArbOptions> = {
  'vma-lock': { faultMode: 'vma-lock' },
  spf: { faultMode: 'spf' },
  'vma-lock-race': { faultMode: 'vma-lock', vmaRace: true, maxOpsPerThread: 8 },
  'spf-race': { faultMode: 'spf', vmaRace: true, maxOpsPerThread: 8 },
};
for (const name of modes.length ? modes : Object.keys(all)) {
  const r = fuzz({ runs, seed: 1, program: all[name]! });
  const v = r.violations.map((f) => `${f.property}: ${f.message}`);
  console.log(JSON.stringify({ mode: name, runs: r.runs, seconds: +(r.elapsedMs / 1000).toFixed(1), execsPerSec: Math.round(r.execsPerSec), violations: v.length }));
  for (const f of r.violations) console.log(`  ${f.property}: ${f.message}\n${JSON.stringify(f.repro)}`);
}
