// Hand-written witnesses of the shmem known-bad patches 055-059 and 049 (in
// mutation/patches/ or pending/): a program and a schedule by rules (steer.ts)
// on which the patched model fails with the Expect'd property and the clean
// model passes. Run on the clean model in shmem-patch-witnesses.spec.ts (each
// park reached), on the patched ones in test/corpus/shmem-patch-witnesses.spec.ts.
import type { Op } from '../../../engine/program/ops.ts';
import type { Witness } from './pending-witnesses.ts';
import { at, done } from './steer.ts';

const write = (value: number, page = 0): Op => ({ op: 'write', region: 0, page, word: 0, value });
const read = (page = 0): Op => ({ op: 'read', region: 0, page, word: 0 });
const pageout = (page: number): Op => ({ op: 'madvise', region: 0, page, pages: 1, advice: 'PAGEOUT' });
/** A shared memfd mapping of `pages` pages, on a swap device of `slots` slots. */
const memfd = (pages: number, slots: number): Op[] => [
  { op: 'swapon', dev: 0, slots },
  { op: 'memfdCreate', file: 0, pages },
  { op: 'memfdMmap', region: 0, file: 0, page: 0, pages, prot: 'rw', shared: true },
];

/** A private view of memfd 0 as r1: it reads the file's page until it writes. */
const privateView: Op = { op: 'memfdMmap', region: 1, file: 0, page: 0, pages: 1, prot: 'rw', shared: false };

export const shmemWitnesses: readonly Witness[] = [
  {
    // Sequential: page 0 fills the one-slot device, page 1's writeout gets no slot and (patched)
    // takes the inode off the swaplist with page 0's entry still in i_pages; swapoff never finds it.
    patch: '055-shmem-writeout-unlists-swapped-inode.patch',
    program: { processes: [{ threads: [[...memfd(2, 1), write(5), write(6, 1), pageout(0), pageout(1), { op: 'swapoff', dev: 0 }, read()]] }] },
    parks: () => [],
    expect: 'liveness',
  },
  {
    // The fault waits on the folio lock PAGEOUT holds while shmem_writeout replaces the folio by
    // its swap entry; (patched) it then maps the folio that left the file.
    patch: '056-shmem-fault-skips-mapping-recheck.patch',
    program: { processes: [{ threads: [[...memfd(1, 4), write(7), pageout(0)], [read()], [write(9), read()]] }] },
    parks: () => [
      { task: 'P0.T0', at: 'mutex_lock(shmem_swaplist', until: at('P0.T1', 'lock(folio_lock') },
      { task: 'P0.T1', at: 'start', until: at('P0.T0', 'mutex_lock(shmem_swaplist') },
      { task: 'P0.T2', at: 'start', until: done('P0.T1') },
    ],
    expect: 'rmap-completeness',
  },
  {
    // Two first touches of one hole: T0's fault is parked with its new folio before it takes the
    // xa_lock, T1's adds and maps its own; (patched) T0's store then replaces T1's folio in
    // i_pages: T1's folio, mapped and written, holds a page-cache reference no slot owns (it leaks).
    patch: '057-shmem-add-to-page-cache-no-conflict-check.patch',
    program: { processes: [{ threads: [[...memfd(1, 4), privateView, write(1)], [write(2)], [{ op: 'read', region: 1, page: 0, word: 0 }]] }] },
    parks: () => [
      { task: 'P0.T0', at: 'spin_lock(i_pages', after: 'shmem_get_folio_gfp', until: done('P0.T1') },
      { task: 'P0.T1', at: 'start', until: at('P0.T0', 'spin_lock(i_pages') },
      { task: 'P0.T2', at: 'start', until: done('P0.T0') },
    ],
    expect: 'refcounts',
  },
  {
    // T0's write fault is parked with its new folio for page 1 before it adds it, while T1
    // truncates the file to one page; (patched) the folio stays beyond i_size, mapped.
    patch: 'pending/049-shmem-fault-no-isize-recheck.patch',
    program: {
      processes: [{ threads: [[...memfd(2, 4), write(5, 1)], [{ op: 'memfdTruncate', file: 0, pages: 1 }], [read(1), { op: 'memfdTruncate', file: 0, pages: 2 }, read(1)]] }],
    },
    parks: () => [
      { task: 'P0.T0', at: 'spin_lock(i_pages', after: 'shmem_get_folio_gfp', until: done('P0.T1') },
      { task: 'P0.T1', at: 'start', until: at('P0.T0', 'spin_lock(i_pages') },
      { task: 'P0.T2', at: 'start', until: done('P0.T0') },
    ],
    expect: 'data-integrity',
  },
  {
    // T0 punches the huge page it wrote and is parked once hugetlb_vmdelete_list() unmapped it,
    // while T1's write faults it back in; (patched) the page leaves the file still mapped by T1.
    patch: '059-hugetlb-punch-removes-mapped-folio.patch',
    program: {
      processes: [
        {
          threads: [
            [{ op: 'hugetlbMmap', region: 0, file: 0, hpage: 0, hpages: 1, prot: 'rw' }, write(3), { op: 'hugetlbPunch', file: 0, hpage: 0, hpages: 1 }, read()],
            [write(4)],
          ],
        },
      ],
    },
    parks: () => [
      { task: 'P0.T1', at: 'start', until: at('P0.T0', 'remove_inode_hugepages') },
      { task: 'P0.T0', at: 'remove_inode_hugepages', until: done('P0.T1') },
    ],
    expect: 'rmap-completeness',
  },
  {
    // T0 punches the page it wrote and is parked once unmap_mapping_pages() unmapped it, while T1's
    // read faults it back in; (patched) the punch removes the folio still mapped by T1.
    patch: '058-truncate-keeps-refaulted-folio-mapped.patch',
    program: { processes: [{ threads: [[...memfd(1, 4), write(7), { op: 'memfdPunch', file: 0, page: 0, pages: 1 }, read()], [read()]] }] },
    parks: () => [
      { task: 'P0.T1', at: 'start', until: at('P0.T0', 'find_lock_entries') },
      { task: 'P0.T0', at: 'find_lock_entries', until: done('P0.T1') },
    ],
    expect: 'rmap-completeness',
  },
];
