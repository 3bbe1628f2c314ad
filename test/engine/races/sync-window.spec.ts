import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Program } from '../../../engine/program/ops.ts';
import { makeStrategy, scheduleArb, type ScheduleSpec } from '../../../generators/index.ts';
import { describeViolation, runChecked } from '../../helpers/run.ts';

/**
 * munmap downgrades the mmap_lock to read for its zap (mmap_write_downgrade):
 * from that release to its up_read, another thread's fault may run. That
 * window is where StackRot (pending/042) and the unlocked unuse of 013 have
 * their other side. T1's write is blocked on the mmap_lock while munmap holds
 * it for write; a scheduler keeps T0 on the CPU past the downgrade unless it
 * preempts T0 right there.
 */
const program: Program = {
  processes: [
    {
      threads: [
        [
          { op: 'mmap', region: 0, pages: 3, prot: 'rw' },
          { op: 'write', region: 0, page: 2, word: 0, value: 1 },
          { op: 'munmap', region: 0, page: 1, pages: 2 },
          { op: 'read', region: 0, page: 0, word: 0 },
        ],
        [
          { op: 'write', region: 0, page: 0, word: 0, value: 5 },
          { op: 'read', region: 0, page: 1, word: 0 },
        ],
      ],
    },
  ],
};

/** Did T1 run a step between munmap's downgrade_write and its up_read of the mmap_lock? */
function reached(spec: ScheduleSpec): boolean {
  const r = runChecked(program, makeStrategy(spec), true);
  assert.equal(r.violation, undefined, `${JSON.stringify(spec)}: ${describeViolation(r)}`);
  const e = r.trace!.entries;
  const t0 = r.trace!.taskNames.indexOf('P0.T0');
  const from = e.findIndex((x) => x.task === t0 && x.label.startsWith('downgrade_write(mmap_lock'));
  assert.ok(from >= 0, 'munmap downgrades');
  const to = e.findIndex((x, i) => i > from && x.task === t0 && x.label.startsWith('up_read(mmap_lock'));
  for (let i = from + 1; i < to; i++) if (e[i]!.task !== t0) return true;
  return false;
}

function count(specs: readonly ScheduleSpec[]): { hits: number; first: number } {
  let hits = 0;
  let first = -1;
  specs.forEach((s, i) => {
    if (!reached(s)) return;
    hits++;
    if (first < 0) first = i;
  });
  return { hits, first };
}

describe('engine/races: a preemption at a release reaches the window munmap opens with its downgrade', function () {
  this.timeout(120_000);
  const N = 600;

  it('one preemption on the release clock reaches it many times as often as one on the step clock, same seeds', () => {
    const seeds = Array.from({ length: N }, (_, i) => i);
    const steps = count(seeds.map((seed) => ({ kind: 'pb', seed, preemptions: 1, maxSteps: 128 })));
    const releases = count(seeds.map((seed) => ({ kind: 'pb', seed, preemptions: 1, maxSteps: 32, at: ['release'] })));
    // Measured: 10 of 600 on steps (k=128 for a 71-step run), 40 of 600 on
    // releases (k=32 for its 19); the first at schedule 9 and 2. The window
    // spans munmap's few zap steps, so the step clock has a few chances too.
    assert.ok(releases.hits >= 3 * Math.max(1, steps.hits), `release clock ${releases.hits} vs step clock ${steps.hits} of ${N}`);
    assert.ok(releases.first < 10, `first reached by schedule ${releases.first}`);
  });

  it('the default mix of preemption-bounded schedules reaches it more often than the step-only mix it replaced', () => {
    // Measured: 39 of 600 against 33 (41 when two in three were on events).
    // Half of the mix stays on steps, and up to two preemptions on 128 steps
    // reach this several-step window too.
    const before = count(fc.sample(scheduleArb({ kinds: ['pb'], syncSteps: 0 }), { numRuns: N, seed: 1 }));
    const after = count(fc.sample(scheduleArb({ kinds: ['pb'] }), { numRuns: N, seed: 1 }));
    assert.ok(after.hits > before.hits, `drawn: ${after.hits} of ${N} now, ${before.hits} with points on steps only`);
  });
});
