// A default campaign to profile: node --cpu-prof --cpu-prof-dir=bench/profiles --import tsx bench/profile.ts [seconds]
// then: npx tsx bench/cpuprofile.ts bench/profiles/<file>.cpuprofile
import { fuzz } from '../runner/index.ts';

const seconds = Number(process.argv[2] ?? 15);
const r = fuzz({ timeMs: seconds * 1000 });
console.log(JSON.stringify({ runs: r.runs, steps: r.steps, execsPerSec: r.execsPerSec, violations: r.violations.length }));
