import assert from 'node:assert/strict';
import type { Op, Program } from '../../engine/program/ops.ts';
import { ABSTRACTIONS } from '../../live/abstractions.ts';
import { kernelUnavailable } from '../../live/build.ts';
import { kernelDiff } from '../../live/diff.ts';
import { compareRecords } from '../../live/compare.ts';
import { runOnKernel } from '../../live/kernel-run.ts';
import { runSequential } from '../../live/sequential.ts';
import { thpKnobs, thpUnavailable } from '../../live/thp-available.ts';
import { forThp } from '../../live/thp-programs.ts';

const why = kernelUnavailable() ?? thpUnavailable('madvise') ?? thpUnavailable('always');
const KNOBS = ['enabled', 'defrag', 'use_zero_page', 'khugepaged/scan_sleep_millisecs', 'khugepaged/max_ptes_none', 'khugepaged/pages_to_scan'];

/** A THP, the zero page, a partial munmap that splits the PMD, and a COW from the zero page in a child. */
const p0: Op[] = [
  { op: 'mmap', region: 0, pages: 16, prot: 'rw' },
  { op: 'madvise', region: 0, page: 0, pages: 16, advice: 'HUGEPAGE' },
  { op: 'write', region: 0, page: 3, word: 0, value: 7 },
  { op: 'mmap', region: 1, pages: 2, prot: 'rw' },
  { op: 'read', region: 1, page: 0, word: 0 },
  { op: 'munmap', region: 0, page: 15, pages: 1 },
  { op: 'fork', child: 1 },
  { op: 'read', region: 0, page: 5, word: 0 },
];
const program = (ops: Op[]): Program => forThp({ processes: [{ threads: [ops] }, { threads: [[{ op: 'write', region: 1, page: 0, word: 0, value: 9 }]] }] }, 'madvise');

/** THP mode of the kernel executor (live/c/thp.c): page states after every op, model beside kernel. */
describe(`live: kernel diff --thp, page states${why ? ` (skipped: ${why})` : ''}`, function () {
  this.timeout(120_000);
  before(function () {
    if (why) this.skip();
  });

  it('a THP, the zero page, a split PMD and a COW of the zero page in a child: the same page states after every op, and the knobs restored', () => {
    const before = thpKnobs(KNOBS);
    const p = program(p0);
    const s = runSequential(p, 0, true);
    assert.ok(s.sequential);
    const k = runOnKernel(p, s.order, 'madvise');
    assert.deepEqual(thpKnobs(KNOBS), before, 'every knob the run set is back');
    const r0 = s.records[0]!.result;
    const r1 = s.records[3]!.result;
    const states = (i: number) => ({ model: s.states![i], kernel: k[i]!.states });
    for (let i = 0; i < s.records.length; i++) assert.equal(states(i).kernel, states(i).model, `op ${i}: ${s.records[i]!.kind}`);
    const at = (i: number, from: number, n: number) => s.states![i]!.slice(from, from + n);
    assert.equal(at(2, r0, 16), 'H'.repeat(16), 'the write faulted in a PMD-mapped THP');
    assert.equal(at(4, r1, 1), 'z', 'a read of a VMA without MADV_HUGEPAGE maps the zero page');
    assert.equal(at(5, r0, 16), `${'t'.repeat(15)}.`, 'munmap of its last page split the PMD, not the folio');
    const child = s.records.findIndex((r) => r.thread === 'P1.T0');
    assert.equal(at(child, r1, 1), 'p', "the child's write copied the zero page");
    assert.deepEqual(compareRecords(s.records, k, s.states), []);
  });

  it("a split of a THP (MADV_PAGEOUT, no swap) maps its zero-filled subpages to the zero page on both sides (RMP_USE_SHARED_ZEROPAGE)", () => {
    const p = forThp(
      {
        processes: [
          {
            threads: [
              [
                { op: 'mmap', region: 0, pages: 16, prot: 'rw' },
                { op: 'madvise', region: 0, page: 0, pages: 16, advice: 'HUGEPAGE' },
                { op: 'write', region: 0, page: 2, word: 0, value: 5 },
                { op: 'madvise', region: 0, page: 0, pages: 11, advice: 'PAGEOUT' },
                { op: 'read', region: 0, page: 2, word: 0 },
              ],
            ],
          },
        ],
      },
      'madvise',
    );
    const s = runSequential(p, 0, true);
    assert.ok(s.sequential);
    const k = runOnKernel(p, s.order, 'madvise');
    const r0 = s.records[0]!.result;
    for (let i = 0; i < s.records.length; i++) assert.equal(k[i]!.states, s.states![i], `op ${i}: ${s.records[i]!.kind}`);
    assert.equal(s.states![2]!.slice(r0, r0 + 16), 'H'.repeat(16));
    assert.equal(s.states![3]!.slice(r0, r0 + 16), `zzp${'z'.repeat(13)}`, 'only the written subpage keeps its page');
    assert.deepEqual(compareRecords(s.records, k, s.states), []);
  });

  it('a state difference is seen: the same program, the kernel under enabled=always and the model under madvise', () => {
    const p = program(p0.filter((op) => op.op !== 'madvise'));
    const s = runSequential(p, 0, true);
    const d = compareRecords(s.records, runOnKernel(p, s.order, 'always'), s.states).find((x) => x.pages);
    const r0 = s.records[0]!.result;
    assert.equal(d?.op.op, 'write');
    assert.equal(d.pages!.length, 16, 'the whole THP differs');
    assert.ok(d.pages!.every((x) => x.kernel === 'H' && x.model === (x.page === r0 + 3 ? 'p' : '.')));
  });
});

/** A bounded `kernel diff --thp` under each knob setting: THPs, the huge zero page, split PMDs and the zero page reached, no difference but the named ones. */
for (const mode of ['madvise', 'always'] as const) {
  const skip = kernelUnavailable() ?? thpUnavailable(mode);
  describe(`live: kernel diff --thp ${mode}${skip ? ` (skipped: ${skip})` : ''}`, function () {
    this.timeout(300_000);
    before(function () {
      if (skip) this.skip();
    });

    it('80 programs: compared op by op with their page states, THPs among them, no difference but the named ones', () => {
      // 80, not 40: with the huge zero page a read maps no THP, and 40 programs (seeds 3 and 5, as the
      // generator now draws them) split no PMD under madvise (no t); 80 of seed 3 show every state in both modes.
      const r = kernelDiff({ runs: 80, seed: 3, thp: mode });
      assert.ok(r.compared >= 60, `only ${r.compared} compared`);
      assert.ok(r.observed!.boundaries >= 5 * r.compared, `only ${r.observed!.boundaries} op boundaries compared`);
      for (const state of ['H', 'Z', 't', 'z']) assert.ok((r.observed!.pages[state] ?? 0) > 0, `no page seen in state ${state}`);
      for (const name of Object.keys(r.abstractions)) assert.ok(ABSTRACTIONS.some((a) => a.name === name));
      assert.deepEqual(r.differences.map((d) => d.signature), []);
    });
  });
}
