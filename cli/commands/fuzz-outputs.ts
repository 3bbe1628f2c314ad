import { formatShard } from '../parse.ts';
import type { Found } from '../campaign/messages.ts';
import { htmlReport } from '../report/html.ts';
import { junitXml } from '../report/junit.ts';
import { ktap } from '../report/tap.ts';
import { prepareOutput, writeOutput } from '../report/outputs.ts';
import { fuzzSummaryJson, fuzzSummaryText, type FuzzSummary } from './fuzz-summary.ts';

/** The nightly files: --summary (JSON), --junit (XML), --tap (KTAP), --html (the interleavings). */
export interface OutputFlags {
  readonly summary?: string;
  readonly junit?: string;
  readonly tap?: string;
  readonly html?: string;
}

const FLAGS = { summary: '--summary', junit: '--junit', tap: '--tap', html: '--html' } as const;

export function prepareOutputs(o: OutputFlags): void {
  for (const k of Object.keys(FLAGS) as (keyof OutputFlags)[]) if (o[k] !== undefined) prepareOutput(FLAGS[k], o[k]);
}

function title(s: FuzzSummary): string {
  return ['mmfuzz fuzz', `seed ${s.result.seed}`, s.shard && `shard ${formatShard(s.shard)}`, s.patch && `patch ${s.patch}`].filter(Boolean).join(' ');
}

/** Written at the end of every campaign that returns, interrupted or not. */
export function writeOutputs(o: OutputFlags, s: FuzzSummary, found: readonly Found[], properties: readonly string[]): void {
  if (o.summary !== undefined) writeOutput(FLAGS.summary, o.summary, `${JSON.stringify({ ...fuzzSummaryJson(s), properties }, null, 2)}\n`);
  if (o.junit !== undefined) {
    const xml = junitXml({
      suite: title(s),
      properties,
      failures: found.map((f) => ({ property: f.failure.property, message: f.failure.message, report: f.report })),
      seconds: s.result.elapsedMs / 1000,
      facts: { seed: s.result.seed, shard: s.shard && formatShard(s.shard), patch: s.patch, engine: s.engine, runs: s.result.runs, steps: s.result.steps, execsPerSec: Math.round(s.result.execsPerSec), workers: s.workers, interrupted: s.result.interrupted },
    });
    writeOutput(FLAGS.junit, o.junit, xml);
  }
  if (o.tap !== undefined) {
    writeOutput(FLAGS.tap, o.tap, ktap({ suite: title(s), properties, failures: found.map((f) => ({ property: f.failure.property, message: f.failure.message, report: f.report })) }));
  }
  if (o.html !== undefined) {
    writeOutput(FLAGS.html, o.html, htmlReport({ title: title(s), summary: fuzzSummaryText(s).split('\n'), repros: found.map((f) => f.view) }));
  }
}
