import type { RunHooks } from '../engine/program/executor.ts';
import { dataIntegrity } from './data-integrity.ts';
import { gupPinCoherence } from './gup-pin-coherence.ts';
import { noStaleSwapHandles } from './no-stale-swap-handles.ts';
import { noLeftoverMigrationEntries } from './no-leftover-migration-entries.ts';
import { deadlock, kernelBug, liveness, lockOrder, memorySafety } from './engine-detected.ts';
import { UnknownPropertyError } from './errors.ts';
import type { Property } from './property.ts';
import { freedRead } from './freed-read.ts';
import { refcounts } from './refcounts.ts';
import { rmapCompleteness } from './rmap-completeness.ts';
import { vmaMerge } from './vma-merge.ts';

/** Every property, in the order they are checked and listed. */
export const properties: readonly Property[] = [
  memorySafety,
  kernelBug,
  lockOrder,
  deadlock,
  liveness,
  rmapCompleteness,
  refcounts,
  dataIntegrity,
  gupPinCoherence,
  noStaleSwapHandles,
  noLeftoverMigrationEntries,
  vmaMerge,
];

export const propertyNames: readonly string[] = properties.map((p) => p.name);

export function getProperty(name: string): Property {
  const p = properties.find((x) => x.name === name);
  if (!p) throw new UnknownPropertyError(name, propertyNames);
  return p;
}

/** Parse `a,b,c` into properties; every name must be known. */
export function selectProperties(list: string | readonly string[] | undefined): readonly Property[] {
  if (list === undefined) return properties;
  const names = typeof list === 'string' ? list.split(',').map((s) => s.trim()).filter(Boolean) : list;
  return names.map(getProperty);
}

type Hook = 'afterStep' | 'afterOp' | 'atEnd';

/** Run every property's hook in order; a freed object one of them reads is its finding (freed-read.ts). */
function each<A extends unknown[]>(list: readonly Property[], hook: Hook): ((...a: A) => void) | undefined {
  if (list.length === 0) return undefined;
  return (...a: A) => {
    let i = 0;
    try {
      for (; i < list.length; i++) (list[i] as unknown as Record<Hook, (...x: A) => void>)[hook](...a);
    } catch (e) {
      throw freedRead(list[i]!.name, e);
    }
  };
}

/** The executor hooks that check the given properties. */
export function hooksFor(selected: readonly Property[]): RunHooks {
  return {
    afterStep: each(selected.filter((p) => p.afterStep), 'afterStep'),
    afterOp: each(selected.filter((p) => p.afterOp), 'afterOp'),
    atEnd: each(selected.filter((p) => p.atEnd), 'atEnd'),
  };
}
