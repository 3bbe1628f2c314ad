/**
 * The program language's memfd ops: tmpfs files named by number and shared
 * by every process, their MAP_SHARED and MAP_PRIVATE mappings as regions,
 * ftruncate and hole punch. Pages count in base pages.
 */
import { memfd_create, memfd_punch_hole, memfd_truncate, vm_mmap_memfd } from '../../fs/memfd.ts';
import { protBits, type Handler } from './env.ts';

export const memfdCreate: Handler<'memfdCreate'> = function* (_env, op) {
  return { result: yield* memfd_create(op.file, op.pages) };
};

export const memfdMmap: Handler<'memfdMmap'> = function* (env, op) {
  const addr = yield* vm_mmap_memfd(env.space.mm, op.file, op.pages, protBits(op.prot), op.page, op.shared);
  if (addr >= 0) env.space.regions.set(op.region, { start: addr, pages: op.pages });
  return { result: addr, addr: addr >= 0 ? addr : undefined, pages: op.pages };
};

export const memfdTruncate: Handler<'memfdTruncate'> = function* (_env, op) {
  return { result: yield* memfd_truncate(op.file, op.pages) };
};

export const memfdPunch: Handler<'memfdPunch'> = function* (_env, op) {
  return { result: yield* memfd_punch_hole(op.file, op.page, op.pages) };
};
