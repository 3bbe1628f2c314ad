import type { Command } from 'commander';
import type { Io } from '../io.ts';
import { OptionValueError, countParser, parseDuration, parseSeed } from '../parse.ts';
import type { KernelDiffFlags } from './kernel-diff.ts';
import type { KernelReproFlags } from './kernel-repro.ts';

/** `--thp always|madvise`: the setting of /sys/kernel/mm/transparent_hugepage/enabled for the runs. */
function parseThp(text: string): 'always' | 'madvise' {
  if (text !== 'always' && text !== 'madvise') throw new OptionValueError('--thp', text, 'always or madvise', '--thp madvise');
  return text;
}

/** `mmfuzz kernel diff|repro`: the bridge to the live kernel (live/), loaded only when run (the other commands start as fast as before). */
export function registerKernel(program: Command, io: Io, exit: (code: number) => void): void {
  const kernel = program.command('kernel').description('check the model against the live kernel (Linux, root and cc needed)');
  kernel
    .command('diff')
    .description('run sequential programs on the model and on this kernel and compare every result; exit 1 on a difference no named abstraction explains')
    .option('--runs <N>', 'programs to compare (default 200)', countParser('--runs', '10000'))
    .option('--seed <S>', 'generator seed (default 0)', parseSeed)
    .option('--thp <MODE>', 'THP programs with THP enabled=MODE (always or madvise; set and restored per run): a model page is 128 KiB, so a model THP is a 2 MiB one, and page states (PMD-mapped, zero page) are compared after every op', parseThp)
    .option('--json', 'print the result as one JSON object on the last line of stdout')
    .action(async (flags: KernelDiffFlags) => exit((await import('./kernel-diff.ts')).kernelDiffCommand(flags, io)));
  kernel
    .command('repro')
    .description("turn a corpus entry into a standalone C stress reproducer, build it and run it on this kernel; exit 1 if the kernel showed the symptom")
    .argument('<FILE>', 'a corpus entry (JSON) with a user-visible property (data-integrity)')
    .option('--time <duration>', 'how long to run it (default 60s)', parseDuration('--time'))
    .option('--out <FILE>', 'where to write the C file (default: live/build/<entry>.c)')
    .option('--json', 'print the result as one JSON object on the last line of stdout')
    .action(async (file: string, flags: KernelReproFlags) => exit((await import('./kernel-repro.ts')).kernelReproCommand(file, flags, io)));
}
