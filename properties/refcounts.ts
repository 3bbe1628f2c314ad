import { report } from '../engine/kernel/current.ts';
import { PG_swapcache } from '../engine/mm/mm_types.ts';
import type { RunContext } from '../engine/program/executor.ts';
import type { Property } from './property.ts';
import { liveFolios } from './walk.ts';
import { checkHugetlbAtEnd, checkHugetlbRefcounts, hugetlbLiveAtEnd } from './hugetlb.ts';
import { checkShmemAtEnd, pageCacheRefs, shmemLiveAtEnd } from './shmem.ts';

/** refcount >= mapcount + pins + swap cache, for every folio in use. */
export function checkRefcounts(ctx: RunContext): void {
  checkHugetlbRefcounts(ctx);
  for (const f of liveFolios(ctx.machine)) {
    const need = f._mapcount + f._pincount + (f.flags & PG_swapcache ? 1 : 0) + pageCacheRefs(f);
    // A folio frozen to 0 by __remove_mapping() is on its way to being freed.
    if (f._refcount < need) {
      report(
        'refcounts',
        `${f.kname} has refcount ${f._refcount} < mapcount ${f._mapcount} + pins ${f._pincount} + swapcache ${f.flags & PG_swapcache ? 1 : 0}${f.f_mapping ? ' + page cache 1' : ''}`,
      );
    }
  }
}

/** Once every process has exited, nothing is left allocated. */
export function checkNoLeaks(ctx: RunContext): void {
  // swap_info structures stay for the life of the kernel, as in Linux.
  // The zero page and the huge zero folio (persistent in the model), too, live as long as the kernel.
  const leaked = [...ctx.kernel.kasan.live].filter(([k, n]) => n !== hugetlbLiveAtEnd(ctx, k) + shmemLiveAtEnd(ctx, k) && k !== 'swap_info' && k !== 'zero_page' && k !== 'huge_zero_page').map(([k, n]) => `${n} ${k}`);
  // The memfds' page caches outlive the processes.
  const used = ctx.machine.mem.nr_frames - ctx.machine.mem.nr_free() - shmemLiveAtEnd(ctx, 'folio');
  if (used > 0) leaked.unshift(`${used} page frame${used > 1 ? 's' : ''} (${liveFolios(ctx.machine).filter((f) => !f.f_mapping).map((f) => `${f.kname} ref ${f._refcount}`).join(', ')})`);
  if (leaked.length > 0) report('refcounts', `leak after all processes exited: ${leaked.join(', ')}`);
  checkHugetlbAtEnd(ctx);
  checkShmemAtEnd(ctx);
}

export const refcounts: Property = {
  name: 'refcounts',
  description: 'refcount >= mapcount + pins + swap cache + page cache; nothing leaks once all processes exit',
  afterOp: checkRefcounts,
  atEnd: checkNoLeaks,
};
