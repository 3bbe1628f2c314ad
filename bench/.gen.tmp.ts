import fc from 'fast-check';
import { caseArb, generateCase } from './../runner/seeds.ts';
const arb = caseArb();
let t = process.cpuUsage();
for (let i = 0; i < 20000; i++) generateCase(arb, 1, i);
let u = process.cpuUsage(t); console.log('fc.sample per case us', (u.user + u.system) / 20000);
t = process.cpuUsage();
for (let i = 0; i < 20000; i++) arb.generate(new fc.Random(fc.xoroshiro128plus ? (fc as any).xoroshiro128plus(i) : undefined as any), undefined);
u = process.cpuUsage(t); console.log('generate per case us', (u.user + u.system) / 20000);
