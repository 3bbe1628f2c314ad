/*
 * kernel/exit.c for the model: a thread leaving its mm.
 */
import type { KGen } from '../sched/task.ts';
import type { MmStruct } from '../mm/mm_types.ts';
import { mmput } from './fork.ts';

/** exit_mm(): the exiting task drops its reference to the address space. */
export function* exit_mm(mm: MmStruct): KGen {
  yield* mmput(mm);
}
