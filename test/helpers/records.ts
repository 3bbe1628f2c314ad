/**
 * Op records for history-level tests of the properties, typed as the
 * executor makes them: an op's record has exactly the fields of its kind
 * (engine/program/history.ts), so a test cannot give a read a `newAs`.
 */
import { History, type Fields, type OpRecord } from '../../engine/program/history.ts';
import type { Op } from '../../engine/program/ops.ts';

export type OpOf<K extends Op['op']> = Extract<Op, { op: K }>;

/** One record but its index, which history() counts per thread. */
export interface Row {
  readonly thread: string;
  record(index: number): OpRecord;
}

/** Thread `thread` ran `op` in address space `as` over steps [start, end] and got `result`, with its kind's fields. */
export function rec<O extends Op>(thread: string, op: O, as: number, start: number, end: number, result: number, fields: Fields<O['op']>): Row {
  // The one cast: TypeScript cannot see that { kind: K, op: OpOf<K>, ...Fields<K> } is RecordOf<K> for a generic K.
  return { thread, record: (index) => ({ kind: op.op, thread, index, op, as, start, end, result, ...fields }) as OpRecord };
}

/** The records of the rows, each thread's numbered from 0 in order. */
export function history(...rows: Row[]): OpRecord[] {
  const next = new Map<string, number>();
  return rows.map((r) => {
    const i = next.get(r.thread) ?? 0;
    next.set(r.thread, i + 1);
    return r.record(i);
  });
}

/** A History holding the records, as a run leaves it for the properties. */
export function asHistory(records: readonly OpRecord[]): History {
  const h = new History();
  for (const r of records) h.add(r);
  return h;
}
