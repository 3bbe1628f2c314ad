import { Worker } from 'node:worker_threads';
import type { Failure, FuzzProgress, FuzzResult } from '../../runner/index.ts';
import { AbortedError } from '../errors.ts';
import { SHARED, type CampaignMessage, type CampaignRequest, type Found } from './messages.ts';

export interface CampaignHandlers {
  onProgress?(p: FuzzProgress): void;
  onFailure?(found: Found): void;
}

/** A campaign's result; cutShort when it was ended in the middle of a run or a shrink. */
export interface CampaignResult extends FuzzResult {
  readonly cutShort: boolean;
}

/**
 * A fuzz() campaign in a worker thread. stop() lets the current run finish
 * and the campaign return what it found; cutShort() ends the thread now and
 * returns what it reported so far; abort() ends the thread and rejects.
 * A handler that throws (a corpus that cannot be written) ends the campaign
 * with that error.
 */
export class Campaign {
  readonly done: Promise<CampaignResult>;
  private readonly shared = new Int32Array(new SharedArrayBuffer(SHARED.length * Int32Array.BYTES_PER_ELEMENT));
  private readonly worker: Worker;
  private readonly failures: Failure[] = [];
  private startedAt: bigint | undefined;
  private finished = false;
  private aborted = false;
  private cut = false;
  /** Runs the last progress message counted. */
  private reported = 0;

  constructor(root: string, private readonly fuzz: CampaignRequest['fuzz'], handlers: CampaignHandlers = {}) {
    const request: CampaignRequest = { root, fuzz, shared: this.shared.buffer as SharedArrayBuffer };
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: request });
    this.done = new Promise((resolve, reject) => {
      const fail = (e: unknown): void => {
        this.finished = true;
        reject(e);
        void this.worker.terminate();
      };
      this.worker.on('message', (m: CampaignMessage) => {
        try {
          if (m.type === 'started') this.startedAt = process.hrtime.bigint();
          else if (m.type === 'progress') {
            this.reported = m.progress.runs;
            handlers.onProgress?.(m.progress);
          }
          else if (m.type === 'failure') {
            this.failures.push(m.found.failure);
            handlers.onFailure?.(m.found);
          } else if (m.type === 'done') {
            this.finished = true;
            resolve({ ...m.result, cutShort: false });
          } else fail(Object.assign(new Error(m.message), { name: m.name }));
        } catch (e) {
          fail(e);
        }
      });
      this.worker.on('error', fail);
      // 'exit' comes after every message the thread posted. Settling twice is a no-op.
      this.worker.on('exit', () => {
        if (this.cut) resolve(this.partial());
        else reject(this.aborted ? new AbortedError(this.failures.length) : new Error('the campaign thread exited without a result'));
      });
    });
  }

  stop(): void {
    Atomics.store(this.shared, SHARED.stop, 1);
  }

  /**
   * End the thread now, in the middle of a run or of a shrink (which can
   * take seconds), keeping every failure it reported.
   */
  cutShort(): void {
    if (this.finished || this.cut) return;
    this.cut = true;
    void this.worker.terminate();
  }

  abort(): void {
    this.aborted = true;
    void this.worker.terminate();
  }

  /**
   * What a cut-short thread did: fuzz() polls before each run, so at least
   * polls - 1 runs ended (polls, if it was cut between two), and at least as
   * many as its last progress said; the one it was in (or shrinking) is
   * neither counted nor reported. Its steps are unknown (0).
   */
  private partial(): CampaignResult {
    const runs = Math.max(this.reported, Atomics.load(this.shared, SHARED.polls) - 1, 0);
    const ms = this.startedAt === undefined ? 0 : Number(process.hrtime.bigint() - this.startedAt) / 1e6;
    return { seed: this.fuzz.seed ?? 0, runs, steps: 0, elapsedMs: ms, execsPerSec: ms > 0 ? runs / (ms / 1000) : 0, violations: [...this.failures], interrupted: true, cutShort: true };
  }
}
