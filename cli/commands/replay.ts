import { engineHash } from '../../project/engine-hash.ts';
import { failureOf, type CorpusEntry } from '../../corpus/entry.ts';
import { shown } from '../../corpus/errors.ts';
import type { Model } from '../../corpus/model.ts';
import { entryChecks, replayEntry, type ReplayOutcome } from '../../corpus/replay.ts';
import { encodeSchedule } from '../../engine/index.ts';
import { formatProgram } from '../../engine/program/format.ts';
import { println, type Io } from '../io.ts';
import { htmlReport } from '../report/html.ts';
import { prepareOutput, writeOutput } from '../report/outputs.ts';
import { interleavingOf, shrinkNote, type ReproView } from '../report/view.ts';
import { tracedModel } from '../trace/model.ts';
import { tracedReplay } from '../trace/replay.ts';
import { withEntry } from './open-entry.ts';

export interface ReplayFlags {
  readonly json?: boolean;
  readonly html?: string;
  /** Lanes, a column per task, instead of the step list. */
  readonly lanes?: boolean;
}

function staleNote(e: CorpusEntry, current: string): string[] {
  return e.engine === current ? [] : [`note: found on engine ${e.engine}; the engine is now ${current} (the model changed since)`];
}

/** What a repro that passes now looks like: it may fail differently, or not at all. */
function noLongerFails(file: string, e: CorpusEntry, out: ReplayOutcome): string {
  const v = out.violation;
  return [
    `${out.verdict === 'differs' ? 'FAILS DIFFERENTLY' : 'NO LONGER FAILS'} ${shown(file)}: recorded ${e.property}: ${e.message}`,
    `  the replay ${v ? `reports ${v.property}: ${v.message}` : 'passes'}`,
    '',
    'program:',
    ...formatProgram(e.program).split('\n').map((l) => `  ${l}`),
    '',
    `schedule: ${encodeSchedule(e.schedule) || '(default order)'}`,
    '',
    'interleaving:',
    out.result.trace!.toLanes({ mark: v?.step }),
  ].join('\n');
}

function replayJson(file: string, e: CorpusEntry, out: ReplayOutcome, current: string) {
  const trace = out.result.trace!;
  return {
    file: shown(file),
    property: e.property,
    message: e.message,
    reproduced: out.reproduced,
    violation: out.violation ?? null,
    patch: e.patch,
    engine: { recorded: e.engine, current },
    repro: { program: e.program, schedule: e.schedule },
    interleaving: { tasks: trace.taskNames, steps: trace.entries },
  };
}

/** The replay as the HTML report draws it: as it fails now, or the recorded failure when it no longer does. */
function replayView(file: string, e: CorpusEntry, out: ReplayOutcome, current: string): ReproView {
  const v = out.violation;
  return {
    property: e.property,
    heading: out.reproduced ? `VIOLATION ${e.property}` : `NO LONGER FAILS: ${shown(file)}`,
    message: out.reproduced ? v!.message : `recorded ${e.property}: ${e.message}; the replay ${v ? `reports ${v.property}: ${v.message}` : 'passes'}`,
    notes: [shrinkNote(failureOf(e)), ...staleNote(e, current)],
    program: formatProgram(e.program),
    schedule: encodeSchedule(e.schedule) || '(default order)',
    interleaving: interleavingOf(out.result.trace!, e.schedule, v?.step, { program: e.program, records: out.result.history.records, message: v?.message ?? e.message }),
  };
}

/** `mmfuzz replay FILE`: 1 when the entry still violates its property, 0 when it no longer fails. */
export async function replayCommand(file: string, flags: ReplayFlags, io: Io): Promise<number> {
  if (flags.html !== undefined) prepareOutput('--html', flags.html);
  return withEntry(file, async (e: CorpusEntry, model: Model) => {
    const judged = replayEntry(e, model);
    const checks = entryChecks(e, model).map((p) => p.name);
    // What is shown comes from a traced copy: the same run, with each step's kernel function stack.
    const traced = await tracedModel(e.patch);
    let out: ReplayOutcome;
    try {
      const r = tracedReplay(traced, e.program, e.schedule, traced.props.selectProperties(checks));
      out = { ...judged, result: r, violation: r.violation ?? judged.violation };
    } finally {
      traced.dispose();
    }
    const current = engineHash(model.root);
    if (flags.html !== undefined) {
      const summary = [`replay of ${shown(file)}${e.patch !== undefined ? ` on patch ${e.patch}` : ''}`];
      writeOutput('--html', flags.html, htmlReport({ title: `mmfuzz replay ${shown(file)}`, summary, repros: [replayView(file, e, out, current)] }));
    }
    if (flags.json) {
      println(io.stdout, JSON.stringify(replayJson(file, e, out, current)));
    } else {
      const report = out.verdict === 'reproduced' ? model.runner.formatFailure(failureOf(e), { properties: entryChecks(e, model), lanes: flags.lanes }, out.result) : noLongerFails(file, e, out);
      println(io.stdout, [report, ...staleNote(e, current)].join('\n'));
    }
    return out.reproduced ? 1 : 0;
  });
}
