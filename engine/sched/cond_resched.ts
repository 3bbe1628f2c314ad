import type { KGen } from './task.ts';

/**
 * cond_resched(): retry loops (GUP retry, swapoff's inuse retry, a fault that
 * must be retried) yield here, so the scheduler may run whoever they wait for.
 */
export function* cond_resched(): KGen {
  yield 'cond_resched';
}

/** The label the execution recognises as sleeping until others progress. */
export const SCHEDULE_TIMEOUT = 'schedule_timeout';

/**
 * schedule_timeout_uninterruptible(1): a loop that waits for another task
 * (a slot another reader is adding to the swap cache, swapoff's retry)
 * sleeps a tick in the kernel. The scheduler lets every other task go first,
 * or a priority strategy would spin the waiter forever.
 */
export function* schedule_timeout_uninterruptible(): KGen {
  yield SCHEDULE_TIMEOUT;
}
