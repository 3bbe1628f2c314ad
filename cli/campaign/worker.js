// A campaign thread's entry point. Started from bin.js, a worker does not
// inherit the main thread's tsx loader: register it here, then run the
// TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./thread.ts');
