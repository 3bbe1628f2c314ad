import { relative, sep } from 'node:path';
import { PatchLoadError } from './errors.ts';

/**
 * An import() of a patched copy that failed, as bad input naming the file
 * and line in the tree's own terms (`engine/mm/memory.ts:120:57`), never the
 * temporary copy's path. esbuild's TransformError says `FILE:LINE:COL: ERROR: why`;
 * anything else thrown while loading is named by the first frame in the copy.
 */
export function loadError(e: unknown, root: string, patch: string): Error {
  if (!(e instanceof Error)) return new PatchLoadError(patch, '(unknown)', String(e));
  const inCopy = (text: string): string => text.split(root + sep).join('').split(relative(process.cwd(), root) + sep).join('');
  const esbuild = /^(\S+?):(\d+):(\d+): ERROR: (.*)$/m.exec(e.message);
  if (esbuild && esbuild[1]!.startsWith(root)) return new PatchLoadError(patch, `${inCopy(esbuild[1]!)}:${esbuild[2]}:${esbuild[3]}`, esbuild[4]!);
  const frame = (e.stack ?? '').split('\n').find((l) => l.includes(root));
  const at = frame ? /(\S+:\d+:\d+)\)?$/.exec(inCopy(frame.replace(/file:\/\//, '')))?.[1] : undefined;
  if (!at && !e.message.includes(root)) return e;
  return new PatchLoadError(patch, at ?? '(at load)', inCopy(e.message.split('\n')[0]!));
}
