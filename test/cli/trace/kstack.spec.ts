import assert from 'node:assert/strict';
import { KernelStacks } from '../../../cli/trace/kstack.ts';
import { wrapGenerators } from '../../../cli/trace/transform.ts';
import { join } from 'node:path';
import { tracedModel } from '../../../cli/trace/model.ts';
import { tracedReplay } from '../../../cli/trace/replay.ts';
import { loadEntry } from '../../../corpus/store.ts';
import { Trace } from '../../../engine/index.ts';
import { PROJECT_ROOT } from '../../../project/root.ts';
import { properties } from '../../../properties/index.ts';
import { replayCase } from '../../../runner/index.ts';

describe('cli/trace: kernel function stacks', () => {
  it('the transform wraps each named generator and keeps every line where it was', () => {
    const src = ['export function* outer(a: number): Generator<string, number> {', '  yield* inner();', '  return a;', '}', 'function* inner() {', "  yield 'x';", '}', 'function plain() { return 1; }', ''].join('\n');
    const out = wrapGenerators(src, 'x.ts');
    assert.equal(out.split('\n').length, src.split('\n').length);
    assert.deepEqual([...out.matchAll(/__k\?\.enter\("(\w+)"\)/g)].map((m) => m[1]), ['outer', 'inner']);
    assert.doesNotMatch(out, /enter\("plain"\)/);
  });

  it('a step shows the stack it started from, per task; the step that threw, the stack at the throw', () => {
    const ks = new KernelStacks();
    const trace = new Trace();
    const step = (n: number, task: number) => {
      trace.entries.push({ step: n, task, label: `s${n}`, events: [] });
      ks.afterStep({ execution: { step: n, currentTask: { id: task } } });
    };
    ks.enter('sys_munmap');
    ks.enter('do_vmi_munmap');
    step(0, 0); // task 0 started and yielded inside do_vmi_munmap
    ks.enter('do_wp_page');
    step(1, 1); // task 1 yielded inside do_wp_page
    ks.enter('free_pgtables');
    ks.leave();
    ks.enter('unmap_region');
    step(2, 0);
    ks.enter('zap_pte_range');
    ks.threw(new Error('BUG'));
    ks.leave();
    trace.entries.push({ step: 3, task: 0, label: 's3', events: ['VIOLATION'] });
    ks.annotate(trace);
    assert.deepEqual(
      trace.entries.map((e) => e.stack),
      [[], [], ['sys_munmap', 'do_vmi_munmap'], ['sys_munmap', 'do_vmi_munmap', 'unmap_region', 'zap_pte_range']],
    );
  });

  it('a traced replay is the same run as the model as written: the same trace, the same verdict, and stacks on top', async function () {
    this.timeout(60_000);
    // A known-bad repro, on the clean model: a run that goes through swapoff, unuse and reclaim.
    const e = loadEntry(join(PROJECT_ROOT, 'corpus/known-bad/013-unuse-without-mmap-lock.json'));
    const m = await tracedModel(undefined);
    try {
      const t = tracedReplay(m, e.program, e.schedule, m.props.properties);
      const plain = replayCase(e.program, e.schedule, { properties, trace: true, debug: true });
      assert.equal(t.trace!.toText(), plain.trace!.toText());
      assert.deepEqual(t.violation, plain.violation);
      assert.ok(t.trace!.entries.filter((x) => (x.stack?.length ?? 0) > 0).length > t.trace!.entries.length / 2, 'most steps are inside a kernel function');
    } finally {
      m.dispose();
    }
  });
});
