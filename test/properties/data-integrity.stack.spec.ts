import assert from 'node:assert/strict';
import { history, rec, type OpOf } from '../helpers/records.ts';
import { A, EFAULT, at, read, verdict, write } from './data-integrity.setup.ts';

const stack: OpOf<'mmap'> = { op: 'mmap', region: 0, pages: 2, prot: 'rw', growsdown: true };
const munmap: OpOf<'munmap'> = { op: 'munmap', region: 0, page: 0, pages: 1 };
/** The access grew the stack down to `page` (pages `page`..`upTo` - 1), at `step`. */
const grown = (page: number, step: number, upTo = 0) => ({ grown: { addr: A + page, pages: upTo - page, step } });

describe('properties: data-integrity on stack growth (an access whose fault grew a MAP_GROWSDOWN mapping)', () => {
  it('the grown pages are mapped with the stack\'s protection and read zero; the access\'s own store is the latest value', () => {
    const h = history(
      rec('P0.T0', stack, 0, 0, 2, A, at(0, 2)),
      rec('P0.T0', write(5, -2), 0, 2, 6, 0, { ...at(-2), value: 5, ...grown(-2, 4) }),
      rec('P0.T0', read(-2), 0, 6, 7, 0, { ...at(-2), value: 5 }),
      rec('P0.T0', read(-1), 0, 7, 8, 0, { ...at(-1), value: 0 }),
    );
    assert.equal(verdict(h), undefined);
    const stale = history(rec('P0.T0', stack, 0, 0, 2, A, at(0, 2)), rec('P0.T0', write(5, -1), 0, 2, 6, 0, { ...at(-1), value: 5, ...grown(-1, 4) }), rec('P0.T0', read(-1), 0, 6, 7, 0, { ...at(-1), value: 0 }));
    assert.match(verdict(stale) ?? '', /read r0\[-1\]\.0 \(address 199, steps 6-7\) returned 0; allowed: \{5\}/);
    // Without the growth in its record, a success below the mapping is an access to nothing.
    const unrecorded = history(rec('P0.T0', stack, 0, 0, 2, A, at(0, 2)), rec('P0.T0', write(5, -1), 0, 2, 6, 0, { ...at(-1), value: 5 }));
    assert.match(verdict(unrecorded) ?? '', /succeeded, but the page was not mapped writable while it ran: protection \{unmapped\}/);
  });

  it('a failed access may still have grown the stack: a later access there is mapped', () => {
    const h = history(
      rec('P0.T0', stack, 0, 0, 2, A, at(0, 2)),
      rec('P0.T0', write(5, -1), 0, 2, 6, EFAULT, { ...at(-1), value: 5, ...grown(-1, 4) }),
      rec('P0.T0', read(-1), 0, 6, 7, 0, { ...at(-1), value: 0 }),
    );
    assert.equal(verdict(h), undefined);
  });

  it('munmap cuts the stack\'s low page while a write grows it back: zero afterwards only from a growth of its own', () => {
    // munmap (steps 3-20) takes page 0 off the stack; T1's write grows the stack back over it.
    const run = (value: number, readGrew: boolean) =>
      history(
        rec('P0.T0', stack, 0, 0, 2, A, at(0, 2)),
        rec('P0.T0', munmap, 0, 3, 20, 0, at(0, 1)),
        rec('P0.T1', write(7), 0, 4, 25, 0, { ...at(), value: 7, ...grown(0, 22, 1) }),
        rec('P0.T0', read(), 0, 30, 31, 0, { ...at(), value, ...(readGrew ? grown(0, 30, 1) : {}) }),
      );
    assert.equal(verdict(run(7, false)), undefined, 'the write, after the growth');
    assert.equal(verdict(run(0, true)), undefined, 'the page was gone again and the read grew the stack itself');
    assert.match(verdict(run(0, false)) ?? '', /read r0\[0\]\.0 \(address 200, steps 30-31\) returned 0; allowed: \{7\}/, 'the stack still covered it: the write was lost');
  });
});
