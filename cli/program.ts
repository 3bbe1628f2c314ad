import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { checkPatchesCommand, type CheckPatchesFlags } from './commands/check-patches.ts';
import { corpusListCommand, corpusMergeCommand, corpusPruneCommand, DEFAULT_CORPUS } from './commands/corpus.ts';
import { fuzzCommand, type FuzzFlags } from './commands/fuzz.ts';
import { registerKernel } from './commands/kernel.ts';
import { replayCommand, type ReplayFlags } from './commands/replay.ts';
import { shrinkCommand } from './commands/shrink.ts';
import type { Io } from './io.ts';
import { countOrZero, countParser, parseDuration, parseProgram, parseSeed, parseShard } from './parse.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The commands. Commander's own errors are thrown (exitOverride) and printed
 * by main() as one line; nothing is printed here but help. Each action hands
 * its exit code to `exit`.
 */
export function buildProgram(io: Io, exit: (code: number) => void): Command {
  const program = new Command('mmfuzz')
    .description('property-based fuzzing of Linux memory-management invariants')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: () => {}, outputError: () => {} });

  program
    .command('fuzz')
    .description('run a campaign; exit 1 if a property was violated')
    .addOption(
      new Option('--runs <N>', 'the campaign is runs 0..N-1 (default 1000 unless --time); --shard and --workers split them').argParser(countParser('--runs', '20000')).conflicts('time'),
    )
    .option('--time <duration>', 'stop after this long: 30s, 10m, 1h', parseDuration('--time'))
    .option('--seed <S>', 'campaign seed, 0..4294967295 (default 0)', parseSeed)
    .option('--properties <a,b>', 'check only these properties (default: all)')
    .option('--corpus <DIR>', 'save each shrunk failure here, one file per bug (default: ./mmfuzz-out/)')
    .addOption(new Option('--run <N>', 're-run only run N of the campaign (with its --seed, --patch, --program)').argParser(countOrZero('--run')).conflicts(['runs', 'time', 'shard', 'workers']))
    .option('--stop-on-failure', 'stop at the first failure (the default with --patch)')
    .option('--no-stop-on-failure', 'with --patch, go on after a failure')
    .option('--json', 'print the result as one JSON object on the last line of stdout')
    .option('--workers <N>', `worker threads sharing the runs (default: one per core, ${availableParallelism()} here)`, countParser('--workers', '2'))
    .option('--shard <i/N>', 'run only shard i of N (1-based): runs i-1, i-1+N, ...', parseShard)
    .option('--patch <FILE>', 'fuzz a copy of the model with this unified diff applied; the campaign favours runs of the changed lines and reports their reach')
    .option('--random', 'the plain random campaign: every run a fresh draw (default: coverage-guided, a queue of inputs that added coverage, mutated)')
    .option('--program <JSON>', 'generator options for a focused campaign, as in a known-bad patch\'s Program: header, e.g. \'{"ops": ["fork", "pin", "write"], "vmaRace": true}\'', parseProgram)
    .option('--summary <FILE>', 'write the result as JSON (at the end, also when interrupted)')
    .option('--junit <FILE>', 'write JUnit XML: a testcase per property, the repro in its failure')
    .option('--tap <FILE>', 'write KTAP (the kernel test format, for kernel CI): a test per property, the repro as diagnostics')
    .option('--html <FILE>', "write an offline HTML report drawing each repro's interleaving as lanes")
    .action(async (flags: FuzzFlags) => exit(await fuzzCommand(flags, io)));

  program
    .command('replay')
    .description('replay a corpus entry with its interleaving; exit 1 if it still fails, 0 if not')
    .argument('<FILE>', 'a corpus entry (JSON)')
    .option('--json', 'print the replay as one JSON object')
    .option('--html <OUT>', 'also write the interleaving as an offline HTML report')
    .option('--lanes', 'draw the interleaving as lanes, one column per task, instead of a step list')
    .action(async (file: string, flags: ReplayFlags) => exit(await replayCommand(file, flags, io)));

  program
    .command('shrink')
    .description('shrink a corpus entry again and rewrite it if smaller; exit 1 if it still fails, 0 if not')
    .argument('<FILE>', 'a corpus entry (JSON)')
    .action(async (file: string) => exit(await shrinkCommand(file, io)));

  program
    .command('check-patches')
    .description('apply each known-bad patch to a copy of the model and check that the property its header expects catches it')
    .argument('[FILE...]', 'patches to check (default: mutation/patches/*.patch)')
    .option('--budget <duration>', 'campaign time per patch: 60s, 2m, 500ms (default 60s)', parseDuration('--budget'))
    .option('--update', 'rewrite each corpus/known-bad/ repro even when it is the one already saved')
    .option('--json', 'print one JSON object on the last line of stdout')
    .action(async (files: string[], flags: CheckPatchesFlags) => exit(await checkPatchesCommand(files, flags, io)));

  const corpus = program.command('corpus').description('list, merge and prune corpus directories');
  corpus
    .command('list')
    .argument('[DIR...]', 'corpus directories', [DEFAULT_CORPUS])
    .option('--json', 'print the list as one JSON object')
    .action((dirs: string[], flags: { json?: boolean }) => exit(corpusListCommand(dirs, flags, io)));
  corpus
    .command('merge')
    .argument('<SRC...>', 'corpus directories to merge')
    .option('--into <DIR>', 'the corpus to merge into', DEFAULT_CORPUS)
    .action((sources: string[], flags: { into: string }) => exit(corpusMergeCommand(sources, flags.into, io)));
  corpus
    .command('prune')
    .description('remove entries that no longer reproduce, and duplicates')
    .argument('[DIR...]', 'corpus directories', [DEFAULT_CORPUS])
    .option('--dry-run', 'only say what would be removed')
    .action(async (dirs: string[], flags: { dryRun?: boolean }) => exit(await corpusPruneCommand(dirs, flags, io)));

  registerKernel(program, io, exit);

  return program;
}
