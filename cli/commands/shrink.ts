import { engineHash } from '../../project/engine-hash.ts';
import { reproSize, type CorpusEntry } from '../../corpus/entry.ts';
import { shown } from '../../corpus/errors.ts';
import type { Model } from '../../corpus/model.ts';
import { entryChecks, replayEntry } from '../../corpus/replay.ts';
import { writeEntry } from '../../corpus/store.ts';
import { println, type Io } from '../io.ts';
import { withEntry } from './open-entry.ts';

/**
 * Shrink an entry again on the current model (after the model changed, a
 * smaller repro may exist) and rewrite it when smaller; the campaign's
 * from-sizes stay, the effort adds up.
 */
function reshrink(e: CorpusEntry, model: Model): CorpusEntry {
  const o = { properties: entryChecks(e, model) };
  const s = model.runner.shrink(e.program, e.schedule, e.property, o);
  model.runner.replayTwice(s.repro, e.property, o);
  return {
    ...e,
    engine: engineHash(model.root),
    message: s.violation.message,
    signature: model.runner.signatureOf(s.violation),
    program: s.repro.program,
    schedule: s.repro.schedule,
    shrink: { ...e.shrink, ops: s.stats.ops, switches: s.stats.switches, runs: e.shrink.runs + s.stats.runs, ms: Math.round(e.shrink.ms + s.stats.ms) },
  };
}

/** `mmfuzz shrink FILE`: 1 when the entry still violates its property (shrunk or not), 0 when it no longer fails. */
export async function shrinkCommand(file: string, io: Io): Promise<number> {
  return withEntry(file, (e, model) => {
    if (!replayEntry(e, model).reproduced) {
      println(io.stdout, `${shown(file)} no longer violates ${e.property}; nothing to shrink (mmfuzz corpus prune drops such entries)`);
      return 0;
    }
    const next = reshrink(e, model);
    const [from, to] = [reproSize(e), reproSize(next)];
    if (to < from) {
      writeEntry(file, next);
      println(io.stdout, `shrunk ${shown(file)}: ${e.shrink.ops} ops / ${e.shrink.switches} switches -> ${next.shrink.ops} ops / ${next.shrink.switches} switches`);
    } else {
      println(io.stdout, `${shown(file)} is already minimal (${next.shrink.ops} ops / ${next.shrink.switches} switches); left as it is`);
    }
    return 1;
  });
}
