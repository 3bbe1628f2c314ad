// One COW campaign (test/fixtures/cow-forgets-to-copy.patch) with every
// nightly output, shared by the scale and nightly-output specs: campaigns
// are the slow part of these tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COW_FLAGS, COW_PROGRAM, COW_SEED } from '../helpers/cow-program.ts';
import { lastJson, mmfuzz, type Ran } from './helpers.ts';

export const COW = 'test/fixtures/cow-forgets-to-copy.patch';
/** The fixture campaign's seed and op mix (test/helpers/cow-program.ts). */
export const SEED = String(COW_SEED);
export { COW_FLAGS, COW_PROGRAM };
export const RUNS = 3000;

export interface CowCampaign {
  readonly ran: Ran;
  readonly json: Record<string, any>;
  readonly dir: string;
  readonly corpus: string;
  readonly junit: string;
  readonly html: string;
  readonly summary: string;
  readonly tap: string;
}

let cached: Promise<CowCampaign> | undefined;

async function run(): Promise<CowCampaign> {
  const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-nightly-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = { corpus: join(dir, 'corpus'), junit: join(dir, 'out', 'junit.xml'), html: join(dir, 'out', 'report.html'), summary: join(dir, 'out', 'summary.json'), tap: join(dir, 'out', 'report.ktap') };
  const ran = await mmfuzz('fuzz', '--random', '--patch', COW, '--no-stop-on-failure', '--runs', String(RUNS), ...COW_FLAGS, '--workers', '1', '--json', '--corpus', out.corpus, '--junit', out.junit, '--html', out.html, '--summary', out.summary, '--tap', out.tap);
  if (ran.code !== 1) throw new Error(`the COW campaign exited ${ran.code}, not 1: ${ran.err}`);
  return { ran, json: lastJson(ran.out), dir, ...out };
}

/** The unsharded, one-worker campaign: --runs 3000, COW_FLAGS, --workers 1. */
export function cowCampaign(): Promise<CowCampaign> {
  cached ??= run();
  return cached;
}
