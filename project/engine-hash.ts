import { join } from 'node:path';
import { hashTree } from './tree-hash.ts';

/**
 * The engine version a repro was found with: a content hash of root/engine/
 * (sorted relative paths and bytes, the same on every machine). Taking the
 * root, not this checkout, lets a patched Workspace copy hash its own engine;
 * corpus/ entries and corpus/known-bad/ entries both use it, so they agree.
 */
export function engineHash(root: string): string {
  return hashTree(join(root, 'engine'));
}
