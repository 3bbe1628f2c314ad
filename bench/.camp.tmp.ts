const root = process.argv[2]!;
const { fuzz } = await import(`${root}/runner/index.ts`);
const r = fuzz({ runs: Number(process.argv[3] ?? 6000), seed: 5 });
const u = process.cpuUsage();
console.log(JSON.stringify({ runs: r.runs, steps: r.steps, violations: r.violations.length, cpuS: (u.user + u.system) / 1e6 }));
