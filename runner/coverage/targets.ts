/**
 * A patch's targets in one copy of the model: the branch counters that guard
 * the changed lines (for each line, the innermost site that begins before it),
 * their functions, and the changed preemption points: yield labels on added
 * lines, the nearest yield before each changed line in its function (the
 * step that runs the changed code starts there), and the points the changed
 * function runs through: its own yields and those of the model's functions
 * it calls (`yield* name(`), one level down. A lockless path such
 * as GUP-fast has its preemption points in its callees; a race with the
 * changed code is a context switch at one of them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CoveredFile } from './registry.ts';
import { changedLines } from './patch-lines.ts';

export interface PatchTargets {
  /** Counter indices relative to the probe's first counter (BranchProbe numbering). */
  readonly sites: ReadonlySet<number>;
  /** Function-entry counters of the changed functions, by name ("memory.ts: copy_present_pte"). */
  readonly functions: ReadonlyMap<string, number>;
  readonly labels: ReadonlySet<string>;
  /** Changed lines in files the probe does not cover (engine/sched, engine/program, ...). */
  readonly uncovered: readonly string[];
}

const YIELD = /yield\s+(['"`])([^'"`]+)\1/g;
const CALL = /yield\*\s+([A-Za-z_$][\w$]*)\(/g;

function labelsIn(text: string): string[] {
  return [...text.matchAll(YIELD)].map((m) => m[2]!);
}

/** lo: the probe's first counter (files' bases are absolute). */
export function patchTargets(patchText: string, files: readonly CoveredFile[], lo: number): PatchTargets {
  const sites = new Set<number>();
  const functions = new Map<string, number>();
  const labels = new Set<string>();
  const uncovered: string[] = [];
  const fileOf = (path: string): CoveredFile | undefined => files.find((x) => x.url.endsWith(`/${path}`));
  const lines = (path: string): string[] | undefined => {
    const f = fileOf(path);
    return f && readFileSync(fileURLToPath(f.url), 'utf8').split('\n');
  };
  for (const c of changedLines(patchText, lines)) {
    const f = fileOf(c.path);
    if (!f) {
      uncovered.push(c.path);
      continue;
    }
    for (const l of c.added) for (const label of labelsIn(l)) labels.add(label);
    const text = readFileSync(fileURLToPath(f.url), 'utf8').split('\n');
    const short = c.path.split('/').pop()!;
    for (const line of c.lines) {
      let best = -1;
      for (let i = 0; i < f.sites.length; i++) {
        const s = f.sites[i]!;
        if (s.line < line && line <= s.endLine && (best < 0 || s.endLine - s.line < f.sites[best]!.endLine - f.sites[best]!.line)) best = i;
      }
      if (best < 0) continue;
      const site = f.sites[best]!;
      sites.add(f.base - lo + best);
      const entry = f.sites.findIndex((s) => s.kind === 'function' && s.fn === site.fn);
      if (entry >= 0) {
        functions.set(`${short}: ${f.functions[site.fn]}`, f.base - lo + entry);
        for (const label of runThrough(f, entry, text, files)) labels.add(label);
        // The nearest preemption point before the line, inside its function.
        for (let l = line - 1; l >= f.sites[entry]!.line; l--) {
          const found = labelsIn(text[l - 1] ?? '');
          if (found.length) {
            labels.add(found[found.length - 1]!);
            break;
          }
        }
      }
    }
  }
  return { sites, functions, labels, uncovered };
}

/** The lines of the function whose entry counter is `entry`. */
function bodyOf(f: CoveredFile, entry: number, text: readonly string[]): string[] {
  const s = f.sites[entry]!;
  return text.slice(s.line - 1, s.endLine);
}

/** The yields of the function at `entry` and of the model's functions it calls. */
function runThrough(f: CoveredFile, entry: number, text: readonly string[], files: readonly CoveredFile[]): string[] {
  const body = bodyOf(f, entry, text).join('\n');
  const out = labelsIn(body);
  for (const m of body.matchAll(CALL)) {
    // The callee in this file first, else wherever the model defines it.
    for (const g of [f, ...files.filter((x) => x !== f)]) {
      const callee = g.sites.findIndex((s) => s.kind === 'function' && g.functions[s.fn] === m[1]);
      if (callee < 0) continue;
      if (g !== f || callee !== entry) out.push(...labelsIn(bodyOf(g, callee, g === f ? text : sourceOf(g)).join('\n')));
      break;
    }
  }
  return out;
}

const sources = new Map<string, string[]>();
function sourceOf(f: CoveredFile): string[] {
  let s = sources.get(f.url);
  if (!s) sources.set(f.url, (s = readFileSync(fileURLToPath(f.url), 'utf8').split('\n')));
  return s;
}
