// Sum self-time per function and per file of a .cpuprofile (V8's JSON):
// npx tsx bench/cpuprofile.ts FILE.cpuprofile [top=25]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: cpuprofile.ts FILE.cpuprofile [top]');
const top = Number.isFinite(Number(topArg)) ? Number(topArg) : 25;
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const short = (url: string): string => url.replace(/^file:\/\/.*?\/(engine|properties|generators|runner|bench|node_modules)\//, '$1/').replace(/^file:\/\//, '') || '(native)';
const fn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const f = `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  fn.set(f, (fn.get(f) ?? 0) + us);
  const u = short(n.callFrame.url).replace(/node_modules\/([^/]+)\/.*/, 'node_modules/$1');
  byFile.set(u, (byFile.get(u) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>): void => {
  console.log(`${title} (self time, ${(total / 1e6).toFixed(1)} s sampled)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
show('top functions', fn);
console.log();
show('top files', byFile);
