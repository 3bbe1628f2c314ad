// The setup shared by the test/engine/mm/mmap.*.spec.ts files.

export const EINVAL = -22;
export const ENOMEM = -12;
export const EFAULT = -14;
