import assert from 'node:assert/strict';
import { HUGETLBFS_MAX_HPAGES as fsMaxHpages } from '../../../engine/fs/hugetlbfs.ts';
import { HPAGE_NR_PAGES as mmHpage } from '../../../engine/mm/hugetlb.ts';
import { MEMFD_MAX_PAGES as fsMemfdMax } from '../../../engine/fs/memfd.ts';
import { EFAULT as mmEfault, WORDS_PER_PAGE as mmWords } from '../../../engine/mm/mm_types.ts';
import { EFAULT, HPAGE_NR_PAGES, HUGETLBFS_MAX_HPAGES, MEMFD_MAX_PAGES, WORDS_PER_PAGE, execArgv } from '../../../engine/program/abi.ts';

// The program language's view of the machine, which the properties judge by, is the model's.
describe('engine/program/abi: what user space knows of the machine', () => {
  it('the page geometry, the hugetlbfs and memfd limits and EFAULT are the kernel side’s', () => {
    assert.deepEqual([WORDS_PER_PAGE, HPAGE_NR_PAGES, HUGETLBFS_MAX_HPAGES, MEMFD_MAX_PAGES, EFAULT], [mmWords, mmHpage, fsMaxHpages, fsMemfdMax, mmEfault]);
  });

  it('exec passes one numbered argument per page', () => {
    assert.deepEqual(execArgv(3), [0xa000, 0xa001, 0xa002]);
  });
});
