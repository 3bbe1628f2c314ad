import type { Failure, FuzzOptions, FuzzProgress, FuzzResult } from '../../runner/index.ts';
import type { ReproView } from '../report/view.ts';

/** What a campaign thread is asked to run: data only, it crosses a thread boundary. */
export interface CampaignRequest {
  /** The model's tree: this checkout, or a patched Workspace copy. */
  readonly root: string;
  readonly fuzz: Pick<FuzzOptions, 'runs' | 'timeMs' | 'seed' | 'shard' | 'program' | 'continueOnFailure' | 'campaign' | 'patch' | 'initialQueue' | 'keepQueue'> & { readonly properties?: readonly string[] };
  /** Int32s, see SHARED: shared memory, so the main thread sees them while fuzz() holds the thread. */
  readonly shared: SharedArrayBuffer;
}

/** The slots of CampaignRequest.shared. */
export const SHARED = {
  /** Non-zero asks the campaign to stop after the current run. */
  stop: 0,
  /** How many times fuzz() polled shouldStop: once before each run. */
  polls: 1,
  length: 2,
} as const;

/** A failure with what the reports need, made in the thread: it replays on the thread's model. */
export interface Found {
  readonly failure: Failure;
  /** The console report (runner.formatFailure). */
  readonly report: string;
  readonly view: ReproView;
}

export type CampaignMessage =
  /** fuzz() starts now: the models are loaded. */
  | { readonly type: 'started' }
  | { readonly type: 'progress'; readonly progress: FuzzProgress }
  | { readonly type: 'failure'; readonly found: Found }
  | { readonly type: 'done'; readonly result: FuzzResult }
  | { readonly type: 'error'; readonly name: string; readonly message: string };
