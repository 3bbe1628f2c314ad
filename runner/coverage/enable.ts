/**
 * Turn on branch coverage of the model in this thread: create the registry
 * and register the load hook. Must run before the model is imported (the
 * CLI's entry points import it right after tsx); a model loaded earlier
 * keeps running uninstrumented, and a campaign then sees interleaving
 * coverage only.
 */
import { register } from 'node:module';
import { coverageRegistry } from './registry.ts';

export function enableModelCoverage(): void {
  coverageRegistry();
  register('./hook.ts', import.meta.url);
}
