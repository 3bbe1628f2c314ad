import assert from 'node:assert/strict';
import { loadEntry } from '../../corpus/store.ts';
import { kernelUnavailable } from '../../live/build.ts';
import { planRepro } from '../../live/repro/plan.ts';
import { reproSource, runRepro } from '../../live/repro/run.ts';

const FINDING = 'corpus/findings/data-integrity-89c3c5454f.json';
const KNOWN_BAD = 'corpus/known-bad/001-cow-no-wrprotect.json';
const PROTNONE = 'corpus/findings/liveness-b1adc04bc1.json';

describe('live: the C reproducer of a corpus entry', () => {
  it('plans the hugetlb finding as the recipe: P1 loops mprotect(R) and back, P2 maps r, reads and checks a write must fault', () => {
    const plan = planRepro(loadEntry(FINDING).program);
    const p1 = plan.processes.find((p) => p.name === 'P1')!;
    const p2 = plan.processes.find((p) => p.name === 'P2')!;
    assert.ok(p1.prelude.some((s) => s.kind === 'map' && s.prot === 'rw' && s.file === 0), "P1 starts with its parent's rw mapping");
    const protects = p1.threads.flatMap((t) => t.body).filter((s) => s.kind === 'protect');
    assert.deepEqual(protects.map((s) => (s.kind === 'protect' ? [s.prot, s.restore] : [])), [['r', false], ['rw', true]]);
    assert.deepEqual(p2.threads[0]!.body.map((s) => s.kind), ['unmap', 'map', 'read', 'write', 'unmap']);
    assert.ok(p2.threads[0]!.body.some((s) => s.kind === 'write' && s.mustFault));
    assert.deepEqual(plan.leftOut, ['P0: swapon dev0 (8 slots)', 'P2: swapoff dev0']);
    assert.equal(plan.hugepages, 1032);
  });

  it('emits a C file that names its entry and property and checks the symptom', () => {
    const { text } = reproSource(loadEntry(FINDING), FINDING);
    assert.match(text, /mmfuzz kernel repro of corpus\/findings\/data-integrity-89c3c5454f\.json/);
    assert.match(text, /symptom\("write through a mapping that is not writable succeeded"\)/);
    assert.match(text, /nr_hugepages\(saved_hugepages\)/);
  });

  const why = kernelUnavailable();
  describe(`on this kernel${why ? ` (skipped: ${why})` : ''}`, function () {
    this.timeout(120_000);
    before(function () {
      if (why) this.skip();
    });

    it('the hugetlb finding shows its symptom (run until the first hit, 30 s at most)', () => {
      const r = runRepro(loadEntry(FINDING), FINDING, 30, undefined, true);
      assert.ok(r.iterations > 0, 'no iteration ran');
      assert.ok(r.hits > 0, `no hit in ${r.iterations} iterations`);
      assert.equal(r.symptom, 'write through a mapping that is not writable succeeded');
    });

    it('the hugetlb PROT_NONE-share livelock (hand-written reproducer) shows its symptom (until the first hit, 30 s at most)', () => {
      const r = runRepro(loadEntry(PROTNONE), PROTNONE, 30, undefined, true);
      assert.match(r.cFile, /live\/findings\/liveness-b1adc04bc1\/repro\.c$/);
      assert.ok(r.iterations > 0, 'A began no read');
      assert.ok(r.hits > 0, `no hit in ${r.iterations} reads`);
      assert.match(r.symptom ?? '', /^a read of a PROT_READ\|PROT_WRITE hugetlb mapping did not complete in 2 s, nor in 2 s more after the other process exited/);
    });

    it('known-bad 001 (COW without write-protect) shows none: the kernel has the fix', () => {
      const r = runRepro(loadEntry(KNOWN_BAD), KNOWN_BAD, 3);
      assert.ok(r.iterations > 100, `only ${r.iterations} iterations`);
      assert.equal(r.hits, 0);
    });
  });
});
