import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import ts from 'typescript';
import { COUNTERS, instrument } from '../../../runner/coverage/transform.ts';

const noPrologue = (): string => '';

/** Instrument a small module, compile it, and load it with its counters. */
function load(src: string): { fn: (...a: unknown[]) => unknown; hits: Uint32Array; sites: ReturnType<typeof instrument>['sites'] } {
  const r = instrument(src, 'm.ts', noPrologue);
  const js = ts.transpileModule(r.code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS } }).outputText;
  const hits = new Uint32Array(r.sites.length);
  const exports: Record<string, unknown> = {};
  new Function(COUNTERS, 'exports', js)(hits, exports);
  return { fn: exports.f as (...a: unknown[]) => unknown, hits, sites: r.sites };
}

const hitKinds = (m: ReturnType<typeof load>): string[] => m.sites.flatMap((s, i) => (m.hits[i] ? [`${s.kind}@${s.line}`] : []));

describe('runner/coverage: the branch transform', () => {
  it('instruments every model file into code that parses, without moving a line', () => {
    for (const dir of ['engine/mm', 'engine/kernel', 'engine/fs']) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
        const src = readFileSync(`${dir}/${f}`, 'utf8');
        const r = instrument(src, f, () => 'const __mmcov = new Uint32Array(1);');
        const sf = ts.createSourceFile(f, r.code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS) as ts.SourceFile & { parseDiagnostics: unknown[] };
        assert.equal(sf.parseDiagnostics.length, 0, `${dir}/${f} does not parse after instrumentation`);
        assert.equal(r.code.split('\n').length, src.split('\n').length, `${dir}/${f}: lines moved`);
        assert.ok(r.sites.length > 0);
      }
    }
  });

  it('counts then, implicit else, both arms of ?: and the right side of && as they run', () => {
    const m = load(['export function f(a: boolean, b: boolean) {', '  if (a) return 1;', '  const x = b ? 2 : 3;', '  return a && x;', '}'].join('\n'));
    assert.equal(m.fn(false, true), false);
    assert.deepEqual(hitKinds(m), ['function@1', 'implicit-else@2', 'cond-true@3']);
    m.hits.fill(0);
    assert.equal(m.fn(true, false), 1);
    assert.deepEqual(hitKinds(m), ['function@1', 'then@2']);
  });

  it('a switch counts its case, a loop its iterations, a catch its errors (property over inputs)', () => {
    const m = load(
      [
        'export function f(k: number, n: number) {',
        '  let s = 0;',
        '  switch (k) {',
        '    case 0: s = 1; break;',
        '    default: s = 2;',
        '  }',
        '  for (let i = 0; i < n; i++) s++;',
        '  try { if (n > 2) throw new Error("x"); } catch { s = -1; }',
        '  return s;',
        '}',
      ].join('\n'),
    );
    const at = (kind: string, line: number): number => m.hits[m.sites.findIndex((s) => s.kind === kind && s.line === line)]!;
    fc.assert(
      fc.property(fc.nat(3), fc.nat(5), (k, n) => {
        m.hits.fill(0);
        m.fn(k, n);
        assert.equal(at('case', 4), k === 0 ? 1 : 0);
        assert.equal(at('case', 5), k === 0 ? 0 : 1);
        assert.equal(at('loop', 7), n);
        assert.equal(at('catch', 8), n > 2 ? 1 : 0);
      }),
      { seed: 7, numRuns: 60 },
    );
  });

  it('keeps an else chain and a braceless then in place', () => {
    const m = load(['export function f(x: number) {', '  let r = 0;', '  if (x === 0) r = 1;', '  else if (x === 1) r = 2;', '  return r;', '}'].join('\n'));
    assert.deepEqual([0, 1, 2].map((x) => m.fn(x)), [1, 2, 0]);
  });
});
