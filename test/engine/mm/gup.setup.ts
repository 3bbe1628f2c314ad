// The setup shared by the test/engine/mm/gup.*.spec.ts files.
import assert from 'node:assert/strict';
import type { Op, Program } from '../../../engine/program/ops.ts';
import { type KGen } from '../../../engine/index.ts';
import { pin_user_pages, pin_user_pages_fast } from '../../../engine/mm/gup.ts';
import { type Folio, type MmStruct } from '../../../engine/mm/mm_types.ts';

export const mmap: Op = { op: 'mmap', region: 0, pages: 1, prot: 'rw' };
export const w = (value: number, word = 0): Op => ({ op: 'write', region: 0, page: 0, word, value });
export const pin = (write: boolean, fast = false): Op => ({ op: 'pin', pin: 0, region: 0, page: 0, write, fast, longterm: true });
export const pinRead = (word = 0): Op => ({ op: 'pinRead', pin: 0, word });
export const read = (word = 0): Op => ({ op: 'read', region: 0, page: 0, word });

/** Harmless ops that give the other process time to act. */
export const pad = (n: number): Op[] => Array.from({ length: n }, (_, i): Op => ({ op: 'mmap', region: 1 + (i % 2), pages: 1, prot: 'rw' }));

/** Parent P0 with one thread, child P1 forked by it. */
export const prog = (parent: Op[], child: Op[]): Program => ({ processes: [{ threads: [parent] }, { threads: [child] }] });

export const EFAULT = -14;
export const ENOMEM = -12;

export function* pinned(mm: MmStruct, addr: number, flags: number, fast = false): KGen<Folio> {
  const r = fast ? yield* pin_user_pages_fast(mm, addr, flags) : yield* pin_user_pages(mm, addr, flags);
  assert.equal(typeof r, 'object', `pin failed: ${String(r)}`);
  return r as Folio;
}
