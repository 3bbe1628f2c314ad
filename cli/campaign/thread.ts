import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { PropertiesModule, RunnerModule } from '../../corpus/model.ts';
import type { CampaignMessage, CampaignRequest } from './messages.ts';

/**
 * The campaign body, in its own thread: fuzz() is synchronous, so only while
 * it runs here is the main thread free to take SIGINT and draw progress.
 * The runner and properties come from the request's tree, so a patched
 * copy's campaign runs on the patched engine.
 */
const req = workerData as CampaignRequest;
const post = (m: CampaignMessage): void => parentPort!.postMessage(m);
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(join(req.root, rel)).href)) as T;

try {
  const runner = await load<RunnerModule>('runner/index.ts');
  const props = await load<PropertiesModule>('properties/index.ts');
  // The report replays with the campaign's selection, so it shows the same violation.
  const co = { properties: props.selectProperties(req.fuzz.properties) };
  const stop = new Int32Array(req.stop);
  const result = runner.fuzz({
    ...req.fuzz,
    shouldStop: () => Atomics.load(stop, 0) !== 0,
    onProgress: (progress) => post({ type: 'progress', progress }),
    onFailure: (failure) => post({ type: 'failure', failure, report: runner.formatFailure(failure, co) }),
  });
  post({ type: 'done', result });
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  post({ type: 'error', name: err.name, message: err.message });
}
