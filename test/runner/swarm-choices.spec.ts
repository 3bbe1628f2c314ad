import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Prng } from '../../engine/sched/prng.ts';
import { OPTION_SWARM } from '../../generators/swarm.ts';
import { SwarmChoices } from '../../runner/swarm-choices.ts';

const spf = OPTION_SWARM.findIndex((d) => d.key === 'faultMode');

/** How often `value` of dimension `d` is drawn in `n` choices. */
function share(c: SwarmChoices, rng: Prng, d: number, value: number, n = 2000): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (c.choose(rng)[d] === value) k++;
  return k / n;
}

describe('runner: the directed choice table', () => {
  it('draws by the priors until a run is rewarded', () => {
    const c = new SwarmChoices(OPTION_SWARM);
    // faultMode: vma-lock 3, spf 1.
    const s = share(c, new Prng(1), spf, 1);
    assert.ok(s > 0.2 && s < 0.3, `spf drawn ${s}`);
  });

  it('draws a value more when its runs are rewarded more, never starving the others', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const c = new SwarmChoices(OPTION_SWARM);
        const rng = new Prng(seed);
        // Only speculative-fault runs reach the patch.
        for (let i = 0; i < 400; i++) {
          const ch = c.choose(rng);
          c.reward(ch, ch[spf] === 1 ? 1 : 0);
        }
        const s = share(c, rng, spf, 1);
        assert.ok(s > 0.5 && s < 0.95, `spf drawn ${s}`);
      }),
      { numRuns: 5 },
    );
  });

  it('learns the op kinds whose runs are rewarded, and a directed draw always has them', () => {
    const c = new SwarmChoices(OPTION_SWARM);
    const rng = new Prng(3);
    for (let i = 0; i < 512; i++) {
      const sw = rng.below(3) === 0;
      c.reward(c.choose(rng), sw ? 1 : 0, sw ? ['mmap', 'swapoff', 'write'] : ['mmap', 'fork', 'write']);
    }
    assert.deepEqual(c.directedKinds, ['swapoff']);
    const allowed = ['mmap', 'munmap', 'read', 'write', 'fork', 'swapon', 'swapoff', 'reclaim'] as const;
    const drawn = Array.from({ length: 40 }, () => c.kinds(rng, allowed)).filter((k) => k !== undefined);
    assert.ok(drawn.length > 10 && drawn.length < 30, `${drawn.length} of 40 directed`);
    for (const ks of drawn) for (const k of ['swapoff', 'mmap', 'read', 'write', 'swapon']) assert.ok(ks!.includes(k as never), `${k} missing from ${ks}`);
    assert.ok(new Set(drawn.map((ks) => ks!.join())).size > 1, 'the other kinds are drawn at random');
  });
});
