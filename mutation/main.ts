// `npx tsx mutation/main.ts check-patches ...`: the command on its own, until
// (and besides) `mmfuzz check-patches` from cli/.
import { Command } from 'commander';
import { checkPatchesCommand } from './check-patches.ts';

const program = new Command('mmfuzz').exitOverride((e) => {
  // commander's own usage errors are bad input: exit 2, as the CLI contract says.
  process.exit(e.exitCode === 0 ? 0 : 2);
});
checkPatchesCommand(program);
await program.parseAsync(process.argv);
