// The setup shared by the test/properties/data-integrity.*.spec.ts files.
import { isViolationError } from '../../engine/sched/violation.ts';
import { type OpRecord, type Range } from '../../engine/program/history.ts';
import type { Prot } from '../../engine/program/ops.ts';
import { checkDataIntegrity } from '../../properties/index.ts';
import { asHistory, history, type OpOf } from '../helpers/records.ts';

export type Runner = typeof import('../../runner/index.ts');
export type Executor = typeof import('../../engine/program/executor.ts');
export type Props = typeof import('../../properties/index.ts');

export const EFAULT = -14;
export const ENOMEM = -12;

/** The data-integrity message for a history, or undefined if it holds. */
export function verdict(recs: OpRecord[]): string | undefined {
  try {
    checkDataIntegrity({ history: asHistory(recs) });
    return undefined;
  } catch (e) {
    if (isViolationError(e)) return e.violation.message;
    throw e;
  }
}

export const A = 200; // where the region of the histories is mapped
export const mmap = (prot: Prot, pages = 2): OpOf<'mmap'> => ({ op: 'mmap', region: 0, pages, prot });
export const mprotect = (prot: Prot, page = 0, pages = 2): OpOf<'mprotect'> => ({ op: 'mprotect', region: 0, page, pages, prot });
export const read = (page = 0): OpOf<'read'> => ({ op: 'read', region: 0, page, word: 0 });
export const write = (value: number, page = 0): OpOf<'write'> => ({ op: 'write', region: 0, page, word: 0, value });
export const at = (page = 0, pages = 1): Range => ({ addr: A + page, pages });
