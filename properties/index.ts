export type { Property } from './property.ts';
export { properties, propertyNames, getProperty, selectProperties, hooksFor } from './registry.ts';
export { UnknownPropertyError } from './errors.ts';
export { checkDataIntegrity } from './data-integrity.ts';
export { checkRmapCompleteness } from './rmap-completeness.ts';
export { checkRefcounts, checkNoLeaks } from './refcounts.ts';
