import assert from 'node:assert/strict';
import { ktap } from '../../cli/report/tap.ts';

describe('cli/report/tap: KTAP for kernel CI', () => {
  it('a version line, a plan, one result per property, the repro as diagnostics above its not ok', () => {
    const out = ktap({ suite: 'seed 1', properties: ['memory-safety', 'data-integrity'], failures: [{ property: 'data-integrity', message: 'm', report: 'VIOLATION data-integrity: m\n  program:\tx' }] });
    assert.equal(out, ['KTAP version 1', '# mmfuzz: seed 1', '1..2', 'ok 1 memory-safety', '# VIOLATION data-integrity: m', '#   program: x', 'not ok 2 data-integrity', ''].join('\n'));
  });
});
