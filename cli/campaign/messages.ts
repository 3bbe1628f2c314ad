import type { Failure, FuzzOptions, FuzzProgress, FuzzResult } from '../../runner/index.ts';

/** What a campaign thread is asked to run: data only, it crosses a thread boundary. */
export interface CampaignRequest {
  /** The model's tree: this checkout, or a patched Workspace copy. */
  readonly root: string;
  readonly fuzz: Pick<FuzzOptions, 'runs' | 'timeMs' | 'seed' | 'shard'> & { readonly properties?: readonly string[] };
  /** One Int32: non-zero asks the campaign to stop after the current run. */
  readonly stop: SharedArrayBuffer;
}

export type CampaignMessage =
  | { readonly type: 'progress'; readonly progress: FuzzProgress }
  /** The report is formatted in the thread: it replays on the thread's model. */
  | { readonly type: 'failure'; readonly failure: Failure; readonly report: string }
  | { readonly type: 'done'; readonly result: FuzzResult }
  | { readonly type: 'error'; readonly name: string; readonly message: string };
