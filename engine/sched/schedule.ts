/**
 * The canonical, shrinkable form of a schedule: the context switches that
 * actually happened, each a step number and the task chosen there, where the
 * choice differs from the default rule (keep the current task, else the lowest
 * runnable id). Removing a switch gives another valid schedule.
 */
export interface Switch {
  readonly step: number;
  readonly task: number;
}

export type Schedule = readonly Switch[];

export class ScheduleFormatError extends Error {
  constructor(text: string, why: string) {
    super(`bad schedule "${text}": ${why}; write it as step:task pairs, e.g. "3:1,17:0"`);
    this.name = 'ScheduleFormatError';
  }
}

/** `3:1,17:0`: step 3 switches to task 1, step 17 to task 0. */
export function encodeSchedule(schedule: Schedule): string {
  return schedule.map((s) => `${s.step}:${s.task}`).join(',');
}

export function decodeSchedule(text: string): Schedule {
  if (text.trim() === '') return [];
  const out: Switch[] = [];
  let last = -1;
  for (const part of text.split(',')) {
    const m = /^\s*(\d+):(\d+)\s*$/.exec(part);
    if (!m) throw new ScheduleFormatError(text, `"${part}" is not step:task`);
    const step = Number(m[1]);
    if (step <= last) throw new ScheduleFormatError(text, 'steps must increase');
    last = step;
    out.push({ step, task: Number(m[2]) });
  }
  return out;
}
