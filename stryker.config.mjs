// Mutation testing of the model (npm run mutation): how many mutants of
// engine/mm, engine/kernel and engine/fs do the properties and the fixed-seed
// mutation suite kill? Triage of the survivors: mutation/README.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'mocha',
  // The specs and the model are TypeScript, loaded through tsx in the test process.
  testRunnerNodeArgs: ['--import', 'tsx'],
  // A dedicated suite: fixed seeds, a few seconds (see .mocharc.mutation.json).
  mochaOptions: { config: '.mocharc.mutation.json' },
  mutate: ['engine/mm/**/*.ts', 'engine/kernel/**/*.ts', 'engine/fs/**/*.ts'],
  // Trace labels and message texts are not scored (equivalent by construction):
  // see mutation/stryker/ignore-messages.mjs and the triage in mutation/README.md.
  plugins: ['@stryker-mutator/mocha-runner', './mutation/stryker/ignore-messages.mjs'],
  ignorers: ['message-text'],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  // tsx does not type-check, and mutants are not expected to compile.
  disableTypeChecks: 'engine/**/*.ts',
  // Only what the suite loads; the rest of the tree need not be copied.
  ignorePatterns: ['/coverage', '/bench', '/docs', '/.scratch', '/cli'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  thresholds: { high: 90, low: 80, break: null },
  // A mutant that loops inside one step (no yield) never returns: give up early.
  timeoutMS: 5000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
