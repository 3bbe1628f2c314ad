import { engineHash } from '../../project/engine-hash.ts';
import { shown } from '../../corpus/errors.ts';
import { mergeCorpora } from '../../corpus/merge.ts';
import { pruneCorpus } from '../../corpus/prune.ts';
import { listEntries, type CorpusWarn } from '../../corpus/store.ts';
import { countOps } from '../../engine/program/ops.ts';
import { PROJECT_ROOT } from '../../project/root.ts';
import { println, type Io } from '../io.ts';

export const DEFAULT_CORPUS = 'corpus';

/** A corpus file that cannot be read: named on stderr, and the rest of the corpus goes on. */
export const warnOn = (io: Io): CorpusWarn => (e) => println(io.stderr, `mmfuzz: warning: ${e.message}`);

/** `mmfuzz corpus list [DIR...]`: a line per entry; `current` when found on this engine. */
export function corpusListCommand(dirs: readonly string[], flags: { json?: boolean }, io: Io): number {
  const current = engineHash(PROJECT_ROOT);
  const rows = dirs.flatMap((d) => listEntries(d, warnOn(io))).map(({ file, entry: e }) => ({
    file: shown(file),
    property: e.property,
    ops: countOps(e.program),
    switches: e.schedule.length,
    engine: e.patch !== undefined ? `patch ${e.patch}` : e.engine === current ? 'current' : `stale ${e.engine}`,
    message: e.message,
  }));
  if (flags.json) println(io.stdout, JSON.stringify({ entries: rows }));
  else {
    for (const r of rows) println(io.stdout, `${r.file}  ${r.property}  ${r.ops} ops / ${r.switches} switches  (${r.engine})  ${r.message}`);
    println(io.stdout, `${rows.length} entr${rows.length === 1 ? 'y' : 'ies'} in ${dirs.join(', ')}`);
  }
  return 0;
}

/** `mmfuzz corpus merge SRC... [--into DIR]`. */
export function corpusMergeCommand(sources: readonly string[], into: string, io: Io): number {
  const r = mergeCorpora(sources, into, warnOn(io));
  for (const o of r.outcomes) if (o.action !== 'kept') println(io.stdout, `${o.action} ${shown(o.file)} (from ${shown(o.from)})`);
  println(io.stdout, `merged ${r.outcomes.length} entries into ${into}: ${r.added} added, ${r.replaced} replaced by a smaller repro, ${r.kept} already there`);
  return 0;
}

/** `mmfuzz corpus prune [DIR...] [--dry-run]`. */
export async function corpusPruneCommand(dirs: readonly string[], flags: { dryRun?: boolean }, io: Io): Promise<number> {
  let n = 0;
  for (const d of dirs) {
    for (const p of await pruneCorpus(d, { ...flags, warn: warnOn(io) })) {
      n++;
      println(io.stdout, `${flags.dryRun ? 'would remove' : 'removed'} ${shown(p.file)}: ${p.why}`);
    }
  }
  println(io.stdout, `${n} entr${n === 1 ? 'y' : 'ies'} ${flags.dryRun ? 'would be ' : ''}pruned from ${dirs.join(', ')}`);
  return 0;
}
