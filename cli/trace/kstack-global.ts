/**
 * The global the transformed code reports to (cli/trace/kstack.ts); absent,
 * the code runs as it was. Its own module: naming it must not load the
 * TypeScript compiler (transform.ts), which every CLI start would pay for.
 */
export const KSTACK_GLOBAL = '__mmfuzzKstack';
