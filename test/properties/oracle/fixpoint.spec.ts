import assert from 'node:assert/strict';
import { fixpoint, OracleNotConverged, type Derived } from '../../../properties/oracle/fixpoint.ts';

/** A step that copies `from` into `into` (a link of a chain), counting its rounds. */
function link(from: Set<number>, into: Set<number>, rounds: number[]): Derived {
  return {
    size: 1,
    apply() {
      rounds.push(1);
      const n = into.size;
      for (const v of from) into.add(v);
      return into.size !== n;
    },
  };
}

describe('properties/oracle/fixpoint: the derived events settle, or the oracle says it is broken', () => {
  it('a value travels down a chain applied in the worst order, one link per round', () => {
    const sets = Array.from({ length: 6 }, (_, i) => new Set(i === 0 ? [7] : []));
    const rounds: number[] = [];
    // Last link first: each round carries the value one link further.
    fixpoint(sets.slice(1).map((s, i) => link(sets[i]!, s, rounds)).reverse());
    assert.deepEqual([...sets[5]!], [7]);
    assert.equal(rounds.length, 5 * 6, 'five rounds carry it, a sixth sees no change');
  });

  it('a step that reports a change every round is an internal error, not a violation', () => {
    const restless: Derived = { size: 3, apply: () => true };
    assert.throws(() => fixpoint([restless]), (e: unknown) => e instanceof OracleNotConverged && /did not settle in 9 rounds over 3 derived events/.test(e.message));
  });
});
