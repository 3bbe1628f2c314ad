import assert from 'node:assert/strict';
import { OP_KINDS } from '../../engine/program/ops.ts';
import { expressedKinds, whyNotExpressed } from '../../live/expressible.ts';
import { encode } from '../../live/encode.ts';

describe('live: what the kernel executor expresses', () => {
  it('FOLL_GET references and memfd ops are generated; exec, reclaim and migrate are not', () => {
    const ks = expressedKinds(OP_KINDS);
    for (const k of ['get', 'getRead', 'put', 'memfdCreate', 'memfdMmap', 'memfdTruncate', 'memfdPunch'] as const) assert.ok(ks.includes(k), k);
    for (const k of ['exec', 'reclaim', 'migrate'] as const) assert.ok(!ks.includes(k), k);
    assert.equal(whyNotExpressed({ op: 'get', ref: 0, region: 0, page: 0, fast: false }), undefined, 'slow and fast get alike: vmsplice chooses');
  });

  it('encodes a memfd mapping\'s prot and MAP_SHARED in one argument, and the model\'s place', () => {
    const line = (shared: boolean) =>
      encode({ processes: [{ threads: [[{ op: 'memfdMmap', region: 1, file: 0, page: 2, pages: 3, prot: 'r', shared }]] }] }, [{ proc: 0, thread: 0, op: { op: 'memfdMmap', region: 1, file: 0, page: 2, pages: 3, prot: 'r', shared }, place: 40 }], { timeoutSeconds: 5 })
        .split('\n')
        .find((l) => l.startsWith('op '));
    assert.equal(line(true), 'op 0 0 0 23 1 0 2 3 5 40');
    assert.equal(line(false), 'op 0 0 0 23 1 0 2 3 1 40');
  });
});
