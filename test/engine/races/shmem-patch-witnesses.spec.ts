// The shmem patches' witnesses (055-059) on the clean model: every park is
// reached (the window opens), every property holds, and the ops return what
// the fix makes them return. The patched half is test/corpus/shmem-patch-witnesses.spec.ts.
import assert from 'node:assert/strict';
import * as engine from '../../../engine/index.ts';
import * as props from '../../../properties/index.ts';
import * as runner from '../../../runner/index.ts';
import { shmemWitnesses } from './shmem-patch-witnesses.ts';
import { steer } from './steer.ts';

/** What each witness's ops return on the clean model, in the order they ended (value for reads). */
const cleanResults: Record<string, readonly (number | string)[]> = {
  // swapoff finds page 0's entry through the swaplist and swaps it in: the read sees 5.
  '055': ['swapon=0', 'memfdCreate=0', 'memfdMmap=206', 'write=0', 'write=0', 'madvise=0', 'madvise=0', 'swapoff=0', 'read:5'],
  // The fault that waited on writeout's lock looks again and swaps the page back in.
  '056': ['swapon=0', 'memfdCreate=0', 'memfdMmap=207', 'write=0', 'madvise=0', 'read:7', 'write=0', 'read:9'],
  // T0's add finds T1's folio (-EEXIST), looks again and writes into it: the private view reads 1.
  '057': ['swapon=0', 'memfdCreate=0', 'memfdMmap=207', 'memfdMmap=206', 'write=0', 'write=0', 'read:1'],
  // T0's fault sees the new size once its folio is in: SIGBUS (-EFAULT), and page 1 reads 0 once the file grows.
  '049': ['swapon=0', 'memfdCreate=0', 'memfdMmap=206', 'memfdTruncate=0', 'write=-14', 'read=-14', 'memfdTruncate=0', 'read:0'],
  // T1's write faults the page in after the unmap; the punch unmaps it again and removes it: T0 reads 0.
  '059': ['hugetlbMmap=192', 'write=0', 'write=0', 'hugetlbPunch=0', 'read:0'],
  // T1's read faults the page back in after the unmap; the punch unmaps it again under its lock: T0 reads 0.
  '058': ['swapon=0', 'memfdCreate=0', 'memfdMmap=207', 'write=0', 'read:7', 'memfdPunch=0', 'read:0'],
};

describe("engine/races: the shmem patches' witnesses on the clean model", () => {
  for (const w of shmemWitnesses) {
    const n = w.patch.replace(/^pending\//, '').split('-')[0]!;
    it(`${w.patch.replace(/^pending\//, '').replace(/\.patch$/, '')}: each park is reached, every property holds, the ops return what the fix makes them`, () => {
      const { strategy, log } = steer(engine, w.parks());
      const r = runner.runCase(w.program, strategy, { properties: props.properties });
      assert.deepEqual(log.reached, w.parks().map((_, i) => !w.cleanSkips?.includes(i)), 'the parks reached');
      assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
      const got = r.history.records.map((x) => (x.kind === 'read' && x.result >= 0 ? `read:${x.value}` : `${x.kind}=${x.result}`));
      assert.deepEqual(got, cleanResults[n]);
    });
  }
});
