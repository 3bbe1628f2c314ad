import { Worker } from 'node:worker_threads';
import type { Failure, FuzzProgress, FuzzResult } from '../../runner/index.ts';
import { AbortedError } from '../errors.ts';
import type { CampaignMessage, CampaignRequest } from './messages.ts';

export interface CampaignHandlers {
  onProgress?(p: FuzzProgress): void;
  onFailure?(f: Failure, report: string): void;
}

/**
 * A fuzz() campaign in a worker thread. stop() lets the current run finish
 * and the campaign return what it found; abort() ends the thread at once.
 * A handler that throws (a corpus that cannot be written) ends the campaign
 * with that error.
 */
export class Campaign {
  readonly done: Promise<FuzzResult>;
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  private failures = 0;
  private aborted = false;

  constructor(root: string, fuzz: CampaignRequest['fuzz'], handlers: CampaignHandlers = {}) {
    const request: CampaignRequest = { root, fuzz, stop: this.stopFlag.buffer as SharedArrayBuffer };
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: request });
    this.done = new Promise((resolve, reject) => {
      const fail = (e: unknown): void => {
        reject(e);
        void this.worker.terminate();
      };
      this.worker.on('message', (m: CampaignMessage) => {
        try {
          if (m.type === 'progress') handlers.onProgress?.(m.progress);
          else if (m.type === 'failure') {
            this.failures++;
            handlers.onFailure?.(m.failure, m.report);
          } else if (m.type === 'done') resolve(m.result);
          else fail(Object.assign(new Error(m.message), { name: m.name }));
        } catch (e) {
          fail(e);
        }
      });
      this.worker.on('error', fail);
      // Settling twice is a no-op: after 'done' or an error this changes nothing.
      this.worker.on('exit', () => reject(this.aborted ? new AbortedError(this.failures) : new Error('the campaign thread exited without a result')));
    });
  }

  stop(): void {
    Atomics.store(this.stopFlag, 0, 1);
  }

  abort(): void {
    this.aborted = true;
    void this.worker.terminate();
  }
}
