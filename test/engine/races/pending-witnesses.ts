// Hand-written witnesses of the pending known-bad patches of swap, shmem and
// VMA paths (mutation/patches/pending/): a small program and a schedule by
// rules (steer.ts) on which the patched model fails with the patch's
// Expect'd property and the clean model passes. Each proves the race is in
// the model; what a default campaign lacks to draw it is in
// mutation/patches/pending/README.md. Run on the clean model in
// pending-witnesses.spec.ts, on the patched ones in test/corpus/.
import type { Op, Program } from '../../../engine/program/ops.ts';
import { at, done, nth, type Park } from './steer.ts';

export interface Witness {
  /** The patch, under mutation/patches/. */
  readonly patch: string;
  readonly program: Program;
  /** Fresh rules per run (nth() is stateful). */
  readonly parks: () => Park[];
  /** The property the patch's Expect: names, as the patched model reports it here. */
  readonly expect: string;
  /** Parks (by index) the clean model never reaches: its fix keeps the task out of the window. */
  readonly cleanSkips?: readonly number[];
}

const read = (region = 0, page = 0): Op => ({ op: 'read', region, page, word: 0 });
const write = (value: number, page = 0): Op => ({ op: 'write', region: 0, page, word: 0, value });
const pageout: Op = { op: 'madvise', region: 0, page: 0, pages: 1, advice: 'PAGEOUT' };
const memfd: Op[] = [
  { op: 'swapon', dev: 0, slots: 4 },
  { op: 'memfdCreate', file: 0, pages: 1 },
  { op: 'memfdMmap', region: 0, file: 0, page: 0, pages: 1, prot: 'rw', shared: true },
  write(7),
];
/** Swap out r0's page 0 (written 1) to device 0, synchronous (zram-like) or not. */
const swappedOut = (sync: boolean, shared = false): Op[] => [
  { op: 'swapon', dev: 0, slots: 4, sync },
  { op: 'mmap', region: 0, pages: 1, prot: 'rw', shared },
  write(1),
  pageout,
];
/** shmem_writeout() holds the folio lock until it has put the swap entry in i_pages: park it there. */
const WRITEOUT = 'spin_lock(i_pages(memfd';

export const witnesses: readonly Witness[] = [
  {
    // Two skip-swapcache faults on one entry: T1 maps it and frees the slot, writes 2 and
    // pages it out to the same slot; T2's pte_same() then passes on the reused entry.
    patch: 'pending/025-skip-swapcache-without-swapcache-prepare.patch',
    program: { processes: [{ threads: [[...swappedOut(true), read()], [read(), write(2), pageout, read()], [read()]] }] },
    parks: () => [
      { task: 'P0.T1', at: 'start', until: at('P0.T0', 'user load') },
      { task: 'P0.T2', at: 'start', until: at('P0.T0', 'user load') },
      { task: 'P0.T0', at: 'user load', until: (ts) => done('P0.T1')(ts) && done('P0.T2')(ts) },
      { task: 'P0.T1', at: 'pte_offset_map', after: 'swap_read_folio', until: at('P0.T2', 'pte_offset_map') },
      { task: 'P0.T2', at: 'pte_offset_map', after: 'swap_read_folio', until: at('P0.T1', 'user load') },
      { task: 'P0.T1', at: 'user load', after: 'swap_writepage', until: done('P0.T2') },
    ],
    expect: 'data-integrity',
    // Clean, T2's swapcache_prepare() finds SWAP_HAS_CACHE taken: it backs off and retries the access.
    cleanSkips: [4],
  },
  {
    // The skip-swapcache fault parked inside its direct read while swapoff runs to its end.
    patch: '026-do-swap-page-without-get-swap-device.patch',
    program: { processes: [{ threads: [[...swappedOut(true), read()]] }], kthreads: [[{ op: 'swapoff', dev: 0 }]] },
    parks: () => [{ task: 'P0.T0', at: 'swap_read_folio: read slot', until: done('K0') }],
    expect: 'kernel-bug',
  },
  {
    // A shmem fault parked between its i_pages lookup and the swap cache, while swapoff runs to its end.
    patch: 'pending/053-shmem-swapin-without-get-swap-device.patch',
    program: { processes: [{ threads: [[...swappedOut(false, true), read()]] }], kthreads: [[{ op: 'swapoff', dev: 0 }]] },
    parks: () => [{ task: 'P0.T0', at: 'shmem_swapin_folio: swap_cache_get_folio', until: done('K0') }],
    expect: 'kernel-bug',
  },
  {
    // The punch's first pass skips the folio PAGEOUT holds locked; its second pass waits on
    // that lock while the folio is replaced by its swap entry.
    patch: 'pending/037-punch-skips-folio-replaced-by-swap.patch',
    program: { processes: [{ threads: [[...memfd, pageout], [{ op: 'memfdPunch', file: 0, page: 0, pages: 1 }], [read()]] }] },
    parks: () => [
      { task: 'P0.T0', at: WRITEOUT, after: 'mutex_lock(shmem_swaplist', until: at('P0.T1', 'lock(folio_lock') },
      { task: 'P0.T1', at: 'start', until: at('P0.T0', WRITEOUT) },
      { task: 'P0.T2', at: 'start', until: done('P0.T1') },
    ],
    expect: 'data-integrity',
  },
  {
    // As 037, but the second pass finds the swap entry, and a fault swaps it in before the
    // pass takes the xa_lock to free it.
    patch: 'pending/054-punch-skips-swap-replaced-by-folio.patch',
    program: { processes: [{ threads: [[...memfd, pageout], [{ op: 'memfdPunch', file: 0, page: 0, pages: 1 }], [read()], [read()]] }] },
    parks: () => [
      { task: 'P0.T0', at: WRITEOUT, after: 'mutex_lock(shmem_swaplist', until: at('P0.T1', 'find_get_entries') },
      { task: 'P0.T1', at: 'start', until: at('P0.T0', WRITEOUT) },
      { task: 'P0.T1', at: 'find_get_entries', until: done('P0.T0') },
      { task: 'P0.T2', at: 'start', until: at('P0.T1', 'spin_lock(i_pages') },
      { task: 'P0.T1', at: 'spin_lock(i_pages', after: 'find_get_entries', until: done('P0.T2') },
      { task: 'P0.T3', at: 'start', until: done('P0.T1') },
    ],
    expect: 'data-integrity',
  },
  {
    // The fix's own reproducer (sequential): a private COW paged out, truncated away and the file grown again.
    patch: 'pending/038-truncate-zap-skips-swap-entries.patch',
    program: {
      processes: [
        {
          threads: [
            [
              { op: 'swapon', dev: 0, slots: 4 },
              { op: 'memfdCreate', file: 0, pages: 1 },
              { op: 'memfdMmap', region: 0, file: 0, page: 0, pages: 1, prot: 'rw', shared: false },
              write(7),
              pageout,
              { op: 'memfdTruncate', file: 0, pages: 0 },
              { op: 'memfdTruncate', file: 0, pages: 1 },
              read(),
            ],
          ],
        },
      ],
    },
    parks: () => [],
    expect: 'data-integrity',
  },
  {
    // Sequential: a R/O long-term pin of a private memfd page, then a write to it.
    patch: 'pending/036-ro-longterm-pin-of-pagecache-in-cow-mapping.patch',
    program: {
      processes: [
        {
          threads: [
            [
              { op: 'memfdCreate', file: 0, pages: 1 },
              { op: 'memfdMmap', region: 0, file: 0, page: 0, pages: 1, prot: 'rw', shared: false },
              { op: 'pin', pin: 0, region: 0, page: 0, write: false, fast: false, longterm: true },
              write(7),
            ],
          ],
        },
      ],
    },
    parks: () => [],
    expect: 'gup-pin-coherence',
  },
  {
    // A split (DONTFORK), a fault in the split-off piece, the undo (DOFORK) merging the
    // unfaulted piece over it: parked in anon_vma_clone()'s root lock, while T1 faults there.
    patch: 'pending/021-dup-anon-vma-without-vma-lock.patch',
    program: {
      processes: [
        {
          threads: [
            [{ op: 'mmap', region: 0, pages: 3, prot: 'rw' }, { op: 'madvise', region: 0, page: 2, pages: 1, advice: 'DONTFORK' }, write(1, 2), { op: 'madvise', region: 0, page: 2, pages: 1, advice: 'DOFORK' }],
            [write(5)],
          ],
        },
      ],
    },
    parks: () => [
      { task: 'P0.T1', at: 'start', until: at('P0.T0', 'down_write(anon_vma_lock') },
      { task: 'P0.T0', at: 'down_write(anon_vma_lock', after: nth('P0.T0', 'down_write(mmap_lock', 3), until: done('P0.T1') },
    ],
    expect: 'rmap-completeness',
  },
  {
    // StackRot: munmap of the stack's low page parked after its downgrade, while T1's write faults there.
    patch: 'pending/042-stack-expansion-under-read-lock.patch',
    program: {
      processes: [
        {
          threads: [
            [{ op: 'mmap', region: 0, pages: 3, prot: 'rw', growsdown: true }, { op: 'munmap', region: 0, page: 0, pages: 1 }, read()],
            [write(5)],
          ],
        },
      ],
    },
    parks: () => [
      { task: 'P0.T1', at: 'start', until: at('P0.T0', 'zap_pmd_range') },
      { task: 'P0.T0', at: 'zap_pmd_range', after: 'downgrade_write', until: done('P0.T1') },
    ],
    expect: 'data-integrity',
  },
];
