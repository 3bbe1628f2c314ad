import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { PropertiesModule, RunnerModule } from '../../corpus/model.ts';
import type { Failure } from '../../runner/index.ts';
import { failureView } from '../report/view.ts';
import { SHARED, type CampaignMessage, type CampaignRequest, type Found } from './messages.ts';

type EngineModule = typeof import('../../engine/index.ts');
type FormatModule = typeof import('../../engine/program/format.ts');

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
  const [runner, props, engine, format] = await Promise.all([
    load<RunnerModule>('runner/index.ts'),
    load<PropertiesModule>('properties/index.ts'),
    load<EngineModule>('engine/index.ts'),
    load<FormatModule>('engine/program/format.ts'),
  ]);
  // The reports replay with the campaign's selection, so they show the same violation.
  const co = { properties: props.selectProperties(req.fuzz.properties) };
  // fuzz() is synchronous, so the report comes from this tree as it is; `mmfuzz replay` adds the kernel function stacks.
  const found = (failure: Failure): Found => {
    const r = runner.replayCase(failure.repro.program, failure.repro.schedule, { ...co, trace: true, debug: true });
    const view = failureView(failure, r.trace!, r.violation?.step, r.violation?.message, { formatProgram: format.formatProgram, encodeSchedule: engine.encodeSchedule }, r.history.records);
    return { failure, report: runner.formatFailure(failure, co, r), view };
  };
  const shared = new Int32Array(req.shared);
  post({ type: 'started' });
  const result = runner.fuzz({
    ...req.fuzz,
    shouldStop: () => {
      Atomics.add(shared, SHARED.polls, 1);
      return Atomics.load(shared, SHARED.stop) !== 0;
    },
    onProgress: (progress) => post({ type: 'progress', progress }),
    onFailure: (failure) => post({ type: 'failure', found: found(failure) }),
  });
  post({ type: 'done', result });
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  post({ type: 'error', name: err.name, message: err.message });
}
