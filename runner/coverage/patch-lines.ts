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

export function changedLines(patchText: string): ChangedFile[] {
  const out: ChangedFile[] = [];
  for (const p of parsePatch(patchText)) {
    const name = (p.newFileName && p.newFileName !== '/dev/null' ? p.newFileName : p.oldFileName)?.replace(/^[ab]\//, '');
    if (!name || !name.startsWith('engine/') || p.hunks.length === 0) continue;
    const lines = new Set<number>();
    const added: string[] = [];
    for (const h of p.hunks) {
      let n = h.newStart;
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
