import type { KGen } from './task.ts';

/**
 * cond_resched(): retry loops (GUP retry, swapoff's inuse retry, a fault that
 * must be retried) yield here, so the scheduler may run whoever they wait for.
 */
export function* cond_resched(): KGen {
  yield 'cond_resched';
}
