import { readFileSync } from 'node:fs';
import { reachText, reachWarning } from '../../runner/coverage/reach-text.ts';
import type { FuzzOptions, FuzzResult } from '../../runner/index.ts';
import { loadQueue, saveQueue } from '../../runner/queue-store.ts';
import { println, type Io } from '../io.ts';
import type { FuzzFlags } from './fuzz.ts';

/**
 * The guided campaign's part of `mmfuzz fuzz`: --random, the patch text for
 * patch-directed reach, and with --corpus the queue loaded (replayed first)
 * and saved back, so nightlies build on each other.
 */
export function campaignOptions(flags: FuzzFlags): Pick<FuzzOptions, 'campaign' | 'patch' | 'initialQueue' | 'keepQueue'> {
  // --run N is the plain campaign's run N: a guided run depends on the runs before it.
  if (flags.random || flags.run !== undefined) return { campaign: 'random' };
  return {
    campaign: 'guided',
    ...(flags.patch === undefined ? {} : { patch: readFileSync(flags.patch, 'utf8') }),
    ...(flags.corpus === undefined ? {} : { initialQueue: loadQueue(flags.corpus), keepQueue: true }),
  };
}

/** Reach (text mode prints it; the warning goes to stderr either way) and the saved queue. */
export function afterCampaign(flags: FuzzFlags, r: FuzzResult, io: Io): void {
  if (r.reach && !flags.json) println(io.stdout, reachText(r.reach, r.runs));
  const w = r.reach && reachWarning(r.reach);
  if (w && flags.json) println(io.stderr, `mmfuzz: ${w}`);
  if (r.coverage && !flags.json) println(io.stdout, `coverage: ${r.coverage.branchesReached} of ${r.coverage.branchSites} model branches, ${r.coverage.features} features, queue ${r.coverage.queue}, schedule depth level ${r.coverage.level}`);
  if (flags.corpus !== undefined && r.queue) {
    const added = saveQueue(flags.corpus, r.queue);
    if (!flags.json) println(io.stdout, `queue: ${added} new input(s) saved to ${flags.corpus}/queue`);
  }
}
