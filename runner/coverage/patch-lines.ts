/**
 * What a unified diff changes, as lines of the patched files: each added line,
 * and for a deletion the line the deleted text stood before. Only model files
 * (engine/...) count; paths are relative to the tree ("engine/mm/memory.ts").
 */
import { parsePatch } from 'diff';

export interface ChangedFile {
  readonly path: string;
  /** 1-based lines of the patched file, ascending, distinct. */
  readonly lines: readonly number[];
  /** The text of the added lines (for the yield labels they hold). */
  readonly added: readonly string[];
}

/**
 * Where a hunk's new side stands in the patched text: a patch applied with an
 * offset (the file moved since the patch was written) has its changed lines
 * elsewhere than its header says. The nearest exact match of the hunk's
 * context and added lines to its header's line; the header's line if none.
 */
function hunkStart(h: { newStart: number; lines: string[] }, text: readonly string[] | undefined): number {
  if (!text) return h.newStart;
  const side = h.lines.filter((l) => l.startsWith(' ') || l.startsWith('+')).map((l) => l.slice(1));
  if (side.length === 0) return h.newStart;
  let best = -1;
  for (let i = 0; i + side.length <= text.length; i++) {
    if (side.every((l, k) => text[i + k] === l) && (best < 0 || Math.abs(i + 1 - h.newStart) < Math.abs(best + 1 - h.newStart))) best = i;
  }
  return best < 0 ? h.newStart : best + 1;
}

/** patched(path): the patched file's lines, to place hunks applied with an offset. */
export function changedLines(patchText: string, patched?: (path: string) => readonly string[] | undefined): ChangedFile[] {
  const out: ChangedFile[] = [];
  for (const p of parsePatch(patchText)) {
    const name = (p.newFileName && p.newFileName !== '/dev/null' ? p.newFileName : p.oldFileName)?.replace(/^[ab]\//, '');
    if (!name || !name.startsWith('engine/') || p.hunks.length === 0) continue;
    const lines = new Set<number>();
    const added: string[] = [];
    const text = patched?.(name);
    for (const h of p.hunks) {
      let n = hunkStart(h, text);
      for (const l of h.lines) {
        if (l.startsWith('+')) {
          lines.add(n++);
          added.push(l.slice(1));
        } else if (l.startsWith('-')) lines.add(n);
        else if (l.startsWith(' ')) n++;
      }
    }
    out.push({ path: name, lines: [...lines].sort((a, b) => a - b), added });
  }
  return out;
}
