/**
 * Pins and the device that holds them: `pin` is pin_user_pages(_fast) for a
 * device (FOLL_LONGTERM when asked, as io_uring's fixed buffers are), and
 * the device reads and writes the pinned page itself, by DMA, never through
 * page tables. A handle holds one pin; the process's last thread leaving
 * drops them all (executor.ts's leave, as exit_files does).
 */
import { FOLL_LONGTERM, FOLL_WRITE, pin_user_pages, pin_user_pages_fast, unpin_user_page } from '../../mm/gup.ts';
import { EBUSY, EINVAL, PG_dirty, page_folio } from '../../mm/mm_types.ts';
import { is_huge_zero_folio, is_zero_folio } from '../../mm/page_alloc.ts';
import { pageAddr, type Handler } from './env.ts';

export const pin: Handler<'pin'> = function* (env, op) {
  const us = env.space;
  const begun = env.run.ctx.execution.step;
  const addr = pageAddr(env, op);
  if (addr === undefined) return { result: -EINVAL, pin: op.pin };
  if (us.pins.has(op.pin)) return { result: -EBUSY, pin: op.pin };
  const flags = (op.write ? FOLL_WRITE : 0) | (op.longterm ? FOLL_LONGTERM : 0);
  const got = op.fast ? yield* pin_user_pages_fast(us.mm, addr, flags) : yield* pin_user_pages(us.mm, addr, flags);
  if (typeof got === 'number') return { result: got, addr, pages: 1, pin: op.pin };
  if (us.pins.has(op.pin)) {
    // Another thread took the handle while we were in GUP: the device refuses the second page.
    unpin_user_page(got);
    return { result: -EBUSY, addr, pages: 1, pin: op.pin };
  }
  const id = env.run.pinIds++;
  us.pins.set(op.pin, { id, addr, folio: got, write: op.write, longterm: op.longterm, detached: us.detachedSince(addr, begun) });
  // A short-term R/O pin may hold the zero page or the huge zero folio: it sees no later write.
  if (is_zero_folio(got) || is_huge_zero_folio(page_folio(got))) return { result: 0, addr, pages: 1, pin: op.pin, pinId: id, zeroPage: true };
  return { result: 0, addr, pages: 1, pin: op.pin, pinId: id };
};

export const pinRead: Handler<'pinRead'> = function* (env, op) {
  yield 'device DMA read';
  const p = env.space.pins.get(op.pin);
  if (!p) return { result: -EINVAL, pin: op.pin };
  return { result: 0, value: p.folio.data[op.word]!, addr: p.addr, pages: 1, pin: op.pin, pinId: p.id };
};

export const pinWrite: Handler<'pinWrite'> = function* (env, op) {
  yield 'device DMA write';
  const p = env.space.pins.get(op.pin);
  if (!p) return { result: -EINVAL, pin: op.pin };
  const at = { addr: p.addr, pages: 1, pin: op.pin, pinId: p.id };
  if (!p.write) return { result: -EINVAL, ...at };
  p.folio.data[op.word] = op.value;
  // The driver marks what its device wrote dirty (bio_set_pages_dirty,
  // unpin_user_pages_dirty_lock): a lazyfree page is not discarded then.
  page_folio(p.folio).flags |= PG_dirty;
  return { result: 0, value: op.value, ...at };
};

export const unpin: Handler<'unpin'> = function* (env, op) {
  yield 'unpin_user_page';
  // The driver looks the handle up and drops it in one go (under its own lock).
  const us = env.space;
  const p = us.pins.get(op.pin);
  if (!p) return { result: -EINVAL, pin: op.pin };
  us.pins.delete(op.pin);
  unpin_user_page(p.folio);
  return { result: 0, addr: p.addr, pages: 1, pin: op.pin, pinId: p.id };
};
