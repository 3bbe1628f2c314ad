import { report } from '../engine/kernel/current.ts';
import { kobject_freed } from '../engine/mm/kasan.ts';
import type { RunContext } from '../engine/program/executor.ts';
import type { Property } from './property.ts';
import { forEachPmdMigration, forEachPte } from './walk.ts';

/**
 * A migration entry (a PTE's, or a PMD's for a THP migrated whole) may only
 * exist while its migration runs, and migration holds the old folio locked
 * from the first entry to the last restored PTE or PMD: an entry whose folio
 * is free, or unlocked, was left behind (the kernel BUGs on one in
 * migration_entry_wait() and pmd_migration_entry_wait()).
 */
export function checkNoLeftoverMigrationEntries(ctx: RunContext): void {
  const frames = ctx.machine.mem.frames;
  for (const mm of ctx.machine.mms) {
    forEachPte(mm, (address, pte) => {
      if (pte.kind !== 'migration') return;
      const f = frames[pte.pfn];
      const where = (): string => `${mm.kname} (${mm.owner}) at ${address} still has a ${pte.mode} migration entry for pfn ${pte.pfn}`;
      if (!f || kobject_freed(f)) report('no-leftover-migration-entries', `${where()}, whose folio has been freed: the migration that made it is over`);
      if (!f.lock.isLocked()) report('no-leftover-migration-entries', `${where()}, but ${f.kname} is not locked: its migration is over`);
    });
    forEachPmdMigration(mm, (haddr, pmd) => {
      const f = frames[pmd.pfn];
      const where = (): string => `${mm.kname} (${mm.owner}) at ${haddr} still has a ${pmd.mode} PMD migration entry for pfn ${pmd.pfn}`;
      if (!f || kobject_freed(f)) report('no-leftover-migration-entries', `${where()}, whose THP has been freed: the migration that made it is over`);
      if (!f.lock.isLocked()) report('no-leftover-migration-entries', `${where()}, but ${f.kname} is not locked: its migration is over`);
      if (!f.order) report('no-leftover-migration-entries', `${where()}, but ${f.kname} is not a THP any more`);
    });
  }
}

export const noLeftoverMigrationEntries: Property = {
  name: 'no-leftover-migration-entries',
  description: 'when migration has returned, no migration entry for it remains',
  afterOp: checkNoLeftoverMigrationEntries,
  atEnd: checkNoLeftoverMigrationEntries,
};
