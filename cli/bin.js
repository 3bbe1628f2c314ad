#!/usr/bin/env node
// The published entry point: load TypeScript through tsx, then hand over to the CLI.
import { register } from 'tsx/esm/api';

register();
// Branch coverage of the model for the guided campaign: the hook must be in place before the model loads.
const { enableModelCoverage } = await import('../runner/coverage/enable.ts');
enableModelCoverage();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
