import assert from 'node:assert/strict';
import { KernelStacks } from '../../../cli/trace/kstack.ts';
import { wrapGenerators } from '../../../cli/trace/transform.ts';
import { Trace } from '../../../engine/index.ts';

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
});
