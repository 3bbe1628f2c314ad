// A campaign thread's entry point. Started from bin.js, a worker does not
// inherit the main thread's tsx loader: register it here, then run the
// TypeScript body.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
// Branch coverage of the model for the guided campaign, before the thread loads it (the plain one has no use for it).
if (workerData?.fuzz?.campaign !== 'random') {
  const { enableModelCoverage } = await import('../../runner/coverage/enable.ts');
  enableModelCoverage();
}
await import('./thread.ts');
