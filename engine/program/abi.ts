/**
 * What user space knows of the machine, as a program sees it (the model's
 * uapi): page and huge-page geometry, the hugetlbfs file limit, and the
 * argument values exec passes. The properties judge a run by these and the
 * op records alone; test/engine/program/abi.spec.ts holds the kernel side
 * to the same numbers.
 */

/** Words a page holds (a read or write names one). */
export const WORDS_PER_PAGE = 2;

/** Base pages in a huge page (a hugetlb region counts in these). */
export const HPAGE_NR_PAGES = 16;

/** Huge pages a hugetlbfs file may hold. */
export const HUGETLBFS_MAX_HPAGES = 4;

/** Pages a memfd may hold. */
export const MEMFD_MAX_PAGES = 8;

/** The errno a user access of a page it may not touch fails with (the model's SIGSEGV). */
export const EFAULT = 14;

/** The argument values exec passes for `args` argument pages: argv[i] goes to word 0 of page i from the top. */
export function execArgv(args: number): number[] {
  return Array.from({ length: args }, (_, i) => 0xa000 + i);
}
