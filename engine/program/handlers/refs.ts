/**
 * Plain page references (FOLL_GET) from user space, as vmsplice() takes
 * them: get_user_pages_fast() or get_user_pages() R/O on one page, the pipe
 * holding the page until its reader is done (put, or the process goes:
 * executor.ts's leave). The reader reads the page itself, not through page
 * tables. Unlike a pin, nothing keeps the reference the page mapped at the
 * address: a COW after fork may leave it on the old page.
 */
import { get_user_pages, get_user_pages_fast } from '../../mm/gup.ts';
import { EBUSY, EINVAL } from '../../mm/mm_types.ts';
import { folio_put } from '../../mm/page_alloc.ts';
import { pageAddr, type Handler } from './env.ts';

export const get: Handler<'get'> = function* (env, op) {
  const us = env.space;
  const addr = pageAddr(env, op);
  if (addr === undefined) return { result: -EINVAL, ref: op.ref };
  if (us.refs.has(op.ref)) return { result: -EBUSY, ref: op.ref };
  const got = op.fast ? yield* get_user_pages_fast(us.mm, addr, 0) : yield* get_user_pages(us.mm, addr, 0);
  if (typeof got === 'number') return { result: got, addr, pages: 1, ref: op.ref };
  if (us.refs.has(op.ref)) {
    // Another thread filled the handle while we were in GUP.
    folio_put(got);
    return { result: -EBUSY, addr, pages: 1, ref: op.ref };
  }
  const id = env.run.refIds++;
  us.refs.set(op.ref, { id, addr, folio: got });
  return { result: 0, addr, pages: 1, ref: op.ref, refId: id };
};

export const getRead: Handler<'getRead'> = function* (env, op) {
  yield 'pipe reader: read the page';
  const r = env.space.refs.get(op.ref);
  if (!r) return { result: -EINVAL, ref: op.ref };
  return { result: 0, value: r.folio.data[op.word]!, addr: r.addr, pages: 1, ref: op.ref, refId: r.id };
};

export const put: Handler<'put'> = function* (env, op) {
  yield 'put_page';
  const us = env.space;
  const r = us.refs.get(op.ref);
  if (!r) return { result: -EINVAL, ref: op.ref };
  us.refs.delete(op.ref);
  folio_put(r.folio);
  return { result: 0, addr: r.addr, pages: 1, ref: op.ref, refId: r.id };
};
