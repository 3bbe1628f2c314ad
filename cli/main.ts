import { CommanderError, type Command } from 'commander';
import { AbortedError, isBadInput } from './errors.ts';
import { println, processIo, type Io } from './io.ts';
import { buildProgram } from './program.ts';

const oneLine = (s: string): string => s.replace(/^error:\s*/, '').replace(/\s*\n+\s*/g, ' ');

/** `mmfuzz replay` for `mmfuzz replay --bogus`: the command whose --help to point at. */
function commandOf(argv: readonly string[], program: Command): string {
  const words = ['mmfuzz'];
  let cmd: Command | undefined = program;
  for (const a of argv) {
    cmd = cmd?.commands.find((c) => c.name() === a);
    if (!cmd) break;
    words.push(a);
  }
  return words.join(' ');
}

function report(e: unknown, argv: readonly string[], program: Command, io: Io): number {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) return 0; // --help, --version
    const cmd = commandOf(argv, program);
    const why = e.code === 'commander.help' ? 'a command is missing' : oneLine(e.message);
    println(io.stderr, `${cmd}: ${why}; run '${cmd} --help' for usage`);
    return 2;
  }
  if (isBadInput(e)) {
    println(io.stderr, `mmfuzz: ${oneLine(e.message)}`);
    return 2;
  }
  if (e instanceof AbortedError) {
    println(io.stderr, `mmfuzz: ${e.message}`);
    return 130;
  }
  // Not the user's input: the model or mmfuzz itself. 3, so that no script reads it as "violation found".
  println(io.stderr, `mmfuzz: internal error: ${oneLine(e instanceof Error ? `${e.name}: ${e.message}` : String(e))}; please report it with the command line`);
  return 3;
}

/**
 * The `mmfuzz` command (cli/bin.js calls it). Returns the exit code: 0 no
 * violation, 1 a violation found, 2 bad usage or bad input (one line on
 * stderr saying what to do), 3 an internal error, 130 aborted by a second
 * SIGINT.
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    return report(e, argv, program, io);
  }
}
