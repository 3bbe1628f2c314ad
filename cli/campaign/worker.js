// A campaign thread's entry point. Started from bin.js, a worker does not
// inherit the main thread's tsx loader: register it here, then run the
// TypeScript body.
import { register } from 'tsx/esm/api';

register();
// Branch coverage of the model (the guided campaign), before the thread loads it.
const { enableModelCoverage } = await import('../../runner/coverage/enable.ts');
enableModelCoverage();
await import('./thread.ts');
