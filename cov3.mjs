import { register } from 'tsx/esm/api';
register();
if (process.argv[2] === 'on') { const { enableModelCoverage } = await import('./runner/coverage/enable.ts'); enableModelCoverage(); }
const runner = await import('./runner/index.ts');
const c0 = process.cpuUsage();
const r = runner.fuzz({ runs: +process.argv[4], seed: 1, campaign: process.argv[3] });
const c = process.cpuUsage(c0);
console.log(process.argv[2], process.argv[3], 'runs', r.runs, 'execs/cpu-s', (r.runs / ((c.user + c.system) / 1e6)).toFixed(0), 'viol', r.violations.length, JSON.stringify(r.coverage));
