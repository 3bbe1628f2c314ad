import type { RunHooks } from '../engine/program/executor.ts';
import { dataIntegrity } from './data-integrity.ts';
import { gupPinCoherence } from './gup-pin-coherence.ts';
import { noStaleSwapHandles } from './no-stale-swap-handles.ts';
import { noLeftoverMigrationEntries } from './no-leftover-migration-entries.ts';
import { deadlock, kernelBug, liveness, lockOrder, memorySafety } from './engine-detected.ts';
import { UnknownPropertyError } from './errors.ts';
import type { Property } from './property.ts';
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

/** The executor hooks that check the given properties. */
export function hooksFor(selected: readonly Property[]): RunHooks {
  const afterStep = selected.filter((p) => p.afterStep);
  const afterOp = selected.filter((p) => p.afterOp);
  const atEnd = selected.filter((p) => p.atEnd);
  return {
    afterStep: afterStep.length ? (ctx) => afterStep.forEach((p) => p.afterStep!(ctx)) : undefined,
    afterOp: afterOp.length ? (ctx, rec) => afterOp.forEach((p) => p.afterOp!(ctx, rec)) : undefined,
    atEnd: atEnd.length ? (ctx) => atEnd.forEach((p) => p.atEnd!(ctx)) : undefined,
  };
}
