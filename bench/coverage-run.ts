// One measurement of the cost of coverage, in a fresh process (bench/coverage.ts starts it):
//   node --import tsx [--import ./runner/coverage/register.ts] bench/coverage-run.ts on|off SECONDS WARMUP
// Runs the plain random campaign's inputs (seed 0, run 0, 1, ...) with all
// properties; `on`: the model is instrumented (the --import) and every run's
// coverage is collected into a feature map as the guided campaign does;
// `off`: neither. Prints one JSON line: runs and CPU-seconds after the warm-up.
import { makeStrategy } from '../generators/index.ts';
import { properties } from '../properties/index.ts';
import { caseArb, generateCase, runCase } from '../runner/index.ts';
import { FeatureMap } from '../runner/coverage/features.ts';
import { CoverageProbe } from '../runner/coverage/probe.ts';

const [mode, seconds, warmup] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const on = mode === 'on';
const co = { properties };
const arb = caseArb();
const probe = on ? new CoverageProbe() : undefined;
const fm = new FeatureMap();
const cpu = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const t0 = performance.now();
let warmAt: { runs: number; cpu: number; steps: number } | undefined;
let runs = 0;
let steps = 0;
for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
  if (!warmAt && performance.now() - t0 >= warmup * 1000) warmAt = { runs, cpu: cpu(), steps };
  const input = generateCase(arb, 0, i);
  if (probe) {
    probe.begin();
    steps += runCase(input.program, makeStrategy(input.schedule), co, (h) => probe.hooks(h)).steps;
    fm.addAll(probe.end());
  } else steps += runCase(input.program, makeStrategy(input.schedule), co).steps;
  runs++;
}
const w = warmAt ?? { runs: 0, cpu: 0, steps: 0 };
const cpuS = cpu() - w.cpu;
console.log(JSON.stringify({ mode, runs: runs - w.runs, steps: steps - w.steps, cpuSeconds: cpuS, execsPerCpuSec: (runs - w.runs) / cpuS, branchSites: probe?.branches.size ?? 0, features: fm.size }));
