import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { Failure } from '../runner/index.ts';
import { NoPatchesError, PatchFileError } from './errors.ts';
import { parsePatchHeader, type PatchHeader, expectsProperty } from './header.ts';
import { KNOWN_BAD_DIR, PATCHES_DIR, knownBadEntry, saveKnownBad } from './known-bad.ts';
import { formatReports, reportsJson, type PatchReport } from './report.ts';
import { engineHash } from '../project/engine-hash.ts';
import { checkApplies } from '../project/patch-apply.ts';
import { Workspace } from '../project/workspace.ts';

type Runner = typeof import('../runner/index.ts');
type Props = typeof import('../properties/index.ts');

export const DEFAULT_BUDGET_MS = 60_000;

export interface CheckPatchesOptions {
  /** Campaign time per patch (default 60 s). */
  readonly budgetMs?: number;
  /** Print the JSON object instead of the table. */
  readonly json?: boolean;
  /** Where caught repros go (default corpus/known-bad). */
  readonly corpusDir?: string;
  /** Rewrite a repro even when it is the one already saved. */
  readonly update?: boolean;
  /** stdout and progress (stderr) writers; tests capture them. */
  readonly out?: (text: string) => void;
  readonly progress?: (text: string) => void;
}

interface Loaded {
  readonly file: string;
  readonly name: string;
  readonly text: string;
  readonly header: PatchHeader;
}

function defaultPatches(): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(PATCHES_DIR);
  } catch {
    // No directory is the same as no patches.
  }
  const files = names.filter((n) => n.endsWith('.patch')).sort().map((n) => join(PATCHES_DIR, n));
  if (files.length === 0) throw new NoPatchesError(relative(process.cwd(), PATCHES_DIR) || PATCHES_DIR);
  return files;
}

/** Read, parse and dry-run every patch before any campaign: bad input fails fast, not after an hour. */
function load(file: string): Loaded {
  const name = basename(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PatchFileError(file, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  const header = parsePatchHeader(text, name);
  checkApplies(text, name);
  return { file, name, text, header };
}

/** One budgeted campaign on the patched copy; stops at the first violation. */
async function checkOne(p: Loaded, budgetMs: number, corpusDir: string, update: boolean): Promise<PatchReport> {
  const ws = Workspace.create(p.text, p.name);
  try {
    const runner = await ws.import<Runner>('runner/index.ts');
    const props = await ws.import<Props>('properties/index.ts');
    const t0 = performance.now();
    let foundAt = 0;
    const r = runner.fuzz({
      timeMs: budgetMs,
      seed: p.header.fuzzSeed,
      program: p.header.program,
      // Patch-directed, as `fuzz --patch`: the campaign learns which shapes reach the changed lines.
      patch: p.text,
      continueOnFailure: false,
      onFailure: () => (foundAt = performance.now()),
    });
    const f: Failure | undefined = r.violations[0];
    const base = { name: p.name, seed: p.header.seed, expect: p.header.expect, runs: r.runs };
    if (!f) return { ...base, caught: false, seconds: r.elapsedMs / 1000 };
    const caught = expectsProperty(p.header.expect, f.property);
    // Detection is when the failing run ended: the shrink that follows is not part of it.
    const report: PatchReport = {
      ...base,
      caught,
      property: f.property,
      message: f.message,
      seconds: Math.max(0, foundAt - t0 - f.shrink.ms) / 1000,
      ops: f.shrink.ops,
      switches: f.shrink.switches,
      repro: f.repro,
    };
    if (!caught) return report;
    const saved = saveKnownBad(corpusDir, knownBadEntry(p.name, p.header.seed, engineHash(ws.root), f, props.propertyNames), update);
    return { ...report, corpusFile: relative(process.cwd(), saved.file) || saved.file, corpusWritten: saved.written };
  } finally {
    ws.dispose();
  }
}

/**
 * Apply each known-bad patch to a copy of the model and fuzz it until the
 * budget runs out or a property fires. A patch counts as caught only when the
 * property its header expects fires; its shrunk repro goes to the corpus.
 * The working tree is never written, except for the corpus entries.
 */
export async function checkPatches(files: readonly string[], o: CheckPatchesOptions = {}): Promise<PatchReport[]> {
  const budgetMs = o.budgetMs ?? DEFAULT_BUDGET_MS;
  const out = o.out ?? ((t: string) => process.stdout.write(`${t}\n`));
  const progress = o.progress ?? ((t: string) => process.stderr.write(`${t}\n`));
  const loaded = (files.length ? files : defaultPatches()).map(load);
  const reports: PatchReport[] = [];
  for (const p of loaded) {
    if (!o.json) progress(`check-patches: ${p.name} (expect ${p.header.expect}, budget ${(budgetMs / 1000).toFixed(0)} s)`);
    reports.push(await checkOne(p, budgetMs, o.corpusDir ?? KNOWN_BAD_DIR, o.update ?? false));
  }
  out(o.json ? reportsJson(reports) : formatReports(reports));
  return reports;
}
