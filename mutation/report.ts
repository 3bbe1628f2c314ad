import { expectsProperty } from './header.ts';
import { encodeSchedule } from '../engine/index.ts';
import { formatProgram } from '../engine/program/format.ts';
import type { Repro } from '../runner/index.ts';

/** One patch's outcome, as check-patches reports it. */
export interface PatchReport {
  readonly name: string;
  /** The header's Seed: the thread the bug comes from. */
  readonly seed: string;
  readonly expect: string;
  /** Caught by the expected property within the budget. */
  readonly caught: boolean;
  /** The property that fired, if any (may differ from expect: a mismatch). */
  readonly property?: string;
  readonly message?: string;
  /** Runs and seconds to detection, or spent in the budget when not caught. */
  readonly runs: number;
  readonly seconds: number;
  readonly ops?: number;
  readonly switches?: number;
  readonly repro?: Repro;
  /** Where the repro was saved (only when caught). */
  readonly corpusFile?: string;
  /** False when the file already held this repro and was left alone. */
  readonly corpusWritten?: boolean;
}

export function isMismatch(r: PatchReport): boolean {
  return r.property !== undefined && !expectsProperty(r.expect, r.property);
}

function verdict(r: PatchReport): string {
  if (r.caught) return 'caught';
  return isMismatch(r) ? 'MISMATCH' : 'MISSED';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}

/** The human form: a table, then each patch's repro or why it was not caught. */
export function formatReports(reports: readonly PatchReport[]): string {
  const rows = [['patch', 'seed', 'result', 'property', 'expect', 'runs', 'seconds', 'ops', 'switches']];
  for (const r of reports) {
    rows.push([r.name, r.seed, verdict(r), r.property ?? '-', r.expect, String(r.runs), r.seconds.toFixed(2), String(r.ops ?? '-'), String(r.switches ?? '-')]);
  }
  const out = table(rows);
  for (const r of reports) {
    out.push('');
    if (isMismatch(r)) {
      out.push(`${r.name}: caught by ${r.property}, but its header says Expect: ${r.expect}; fix the header or the patch`);
      out.push(`  ${r.message}`);
    } else if (!r.caught) {
      out.push(`${r.name}: not caught in ${r.runs} runs (${r.seconds.toFixed(1)} s); raise --budget, or give the header a Program: op mix that reaches the bug`);
      continue;
    } else {
      out.push(`${r.name}: ${r.property}: ${r.message}`);
    }
    if (r.repro) {
      out.push(...formatProgram(r.repro.program).split('\n').map((l) => `  ${l}`));
      out.push(`  schedule: ${encodeSchedule(r.repro.schedule) || '(default order)'}`);
    }
    if (r.corpusFile) out.push(r.corpusWritten === false ? `  ${r.corpusFile} already holds this repro (left as it is; --update rewrites it)` : `  saved to ${r.corpusFile}`);
  }
  return out.join('\n');
}

/** The --json form: one object, printed as the last stdout line. */
export function reportsJson(reports: readonly PatchReport[]): string {
  return JSON.stringify({
    patches: reports.map((r) => ({
      name: r.name,
      seed: r.seed,
      caught: r.caught,
      property: r.property ?? null,
      expect: r.expect,
      message: r.message ?? null,
      runs: r.runs,
      seconds: Number(r.seconds.toFixed(3)),
      ops: r.ops ?? null,
      switches: r.switches ?? null,
      repro: r.repro ?? null,
    })),
  });
}
