import { current, report } from '../kernel/current.ts';
import type { KGen, Task } from '../sched/task.ts';
import { Waitable } from '../sched/waitable.ts';
import { syncAcquired, syncReleased } from './held.ts';

/**
 * seqcount_t. Writers (serialised by a lock of their own, e.g. mmap_lock for
 * mm->write_protect_seq) make the count odd for the length of the write
 * section; readers sample it and retry, or bail, when it moved.
 */
export class Seqcount extends Waitable {
  sequence = 0;
  writer: Task | undefined;
  readonly beginLabel: string;
  readonly endLabel: string;
  readonly readLabel: string;
  readonly retryLabel: string;

  constructor(readonly name: string) {
    super();
    this.beginLabel = `write_seqcount_begin(${name})`;
    this.endLabel = `write_seqcount_end(${name})`;
    this.readLabel = `read_seqcount_begin(${name})`;
    this.retryLabel = `read_seqcount_retry(${name})`;
  }

  holders(): readonly Task[] {
    return this.writer ? [this.writer] : [];
  }

  describe(): string {
    return `${this.name} (write section)`;
  }
}

export function* write_seqcount_begin(s: Seqcount): KGen {
  yield s.beginLabel;
  if (s.sequence & 1) report('kernel-bug', `write_seqcount_begin(${s.name}): nested or unserialised writers`);
  s.sequence++;
  s.writer = current();
  syncAcquired();
}

export function* write_seqcount_end(s: Seqcount): KGen {
  yield s.endLabel;
  if (!(s.sequence & 1)) report('kernel-bug', `write_seqcount_end(${s.name}) without write_seqcount_begin`);
  s.sequence++;
  s.writer = undefined;
  syncReleased();
  s.wakeAll();
}

/** Waits (in the kernel: spins) while a writer is inside; returns an even count. */
export function* read_seqcount_begin(s: Seqcount): KGen<number> {
  yield s.readLabel;
  while (s.sequence & 1) yield s;
  syncAcquired();
  return s.sequence;
}

/** raw_read_seqcount(): the count as it is, odd included (GUP-fast bails on odd). */
export function* raw_read_seqcount(s: Seqcount): KGen<number> {
  yield s.readLabel;
  syncAcquired();
  return s.sequence;
}

/** True when a writer has been in since `start`: the read must be retried. */
export function* read_seqcount_retry(s: Seqcount, start: number): KGen<boolean> {
  yield s.retryLabel;
  return s.sequence !== start;
}
