// Does this machine scale plain JavaScript over worker threads? The ceiling
// that `fuzz --workers N` is measured against (docs/benchmarks.md, Scaling).
//   node bench/machine-scaling.mjs [workers=1] [pure|alloc] [seconds=8]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

if (isMainThread) {
  const n = Number(process.argv[2] ?? 1);
  const alloc = process.argv[3] === 'alloc';
  const seconds = Number(process.argv[4] ?? 8);
  let total = 0;
  let done = 0;
  for (let i = 0; i < n; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { ms: seconds * 1000, alloc } });
    w.on('message', (c) => {
      total += c;
      if (++done === n) console.log(`${n} worker(s), ${alloc ? 'allocating' : 'pure'} loop: ${(total / seconds).toFixed(0)} blocks/s`);
    });
  }
} else {
  // A block is 100,000 iterations; the clock is read once per block.
  const end = Date.now() + workerData.ms;
  let blocks = 0;
  let x = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 100_000; i++) {
      if (workerData.alloc) {
        const o = { a: i, b: [i, x] };
        x = o.b.length + (o.a & 1);
      } else x = (x * 31 + i) | 0;
    }
    blocks++;
  }
  parentPort.postMessage(blocks + (x & 0));
}
