import type { Property } from './property.ts';

/** Properties the engine reports by itself, as it runs. */
export const memorySafety: Property = {
  name: 'memory-safety',
  description: 'no use-after-free or double free of any modelled object (KASAN, with RCU grace periods)',
};

export const lockOrder: Property = {
  name: 'lock-order',
  description: 'lockdep: no lock-order inversion, recursive locking, bad unlock, or lock held at exit',
};

export const deadlock: Property = {
  name: 'deadlock',
  description: 'no state where no task can run while some are blocked (the wait-for cycle is reported)',
};

export const liveness: Property = {
  name: 'liveness',
  description: 'the run finishes within its step budget (the task that made no progress is named)',
};

export const kernelBug: Property = {
  name: 'kernel-bug',
  description: 'no BUG_ON / VM_BUG_ON fires, and the model does not oops',
};
