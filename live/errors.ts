/** The kernel side cannot run on this machine: the reason, and what to do. */
export class KernelUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`kernel runs need Linux, root and cc: ${reason}`);
  }
}

/** The executor failed or gave output it should not have. */
export class ExecutorError extends Error {
  constructor(detail: string) {
    super(`the kernel executor failed: ${detail}; rerun with the same program to see whether it is the machine`);
  }
}

/** A program holds an op the executor cannot run. */
export class NotExpressibleError extends Error {
  constructor(where: string, why: string) {
    super(`${where} cannot run on a kernel: ${why}`);
  }
}
