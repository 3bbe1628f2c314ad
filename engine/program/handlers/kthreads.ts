/**
 * The kernel daemons' work, as program ops: a kswapd reclaim pass and a
 * kcompactd migration, each on the folio the op's victim number picks
 * (page_alloc.ts's lru_pick), 1 if the folio was reclaimed or migrated;
 * and exit, which any thread may run.
 */
import { kcompactd_migrate } from '../../mm/migrate.ts';
import { kswapd_reclaim } from '../../mm/vmscan.ts';
import type { KernelHandler } from './env.ts';

export const reclaim: KernelHandler<'reclaim'> = function* (_run, op) {
  return { result: (yield* kswapd_reclaim(op.victim)) ? 1 : 0 };
};

export const migrate: KernelHandler<'migrate'> = function* (_run, op) {
  return { result: (yield* kcompactd_migrate(op.victim)) ? 1 : 0 };
};

export const exit: KernelHandler<'exit'> = function* () {
  return { result: 0 };
};
