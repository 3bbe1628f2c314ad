// The kernel-path frames of the JS call stack, for debug reports (lockdep, KASAN).

/**
 * The kernel-path frames of the JS stack, innermost first:
 * `anon_vma_fork <- dup_mmap <- copy_process`. Used in debug (report) mode.
 */
export function kernelStack(): string {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = saved;
  const names: string[] = [];
  for (const line of stack.split('\n')) {
    const m = /^\s+at (?:Generator\.next \()?(?:[\w$.]+\.)?([\w$]+) \((.*)\)$/.exec(line);
    if (!m || !/engine\/(mm|kernel|fs|program)\//.test(m[2]!)) continue;
    names.push(m[1]!);
  }
  return names.length > 0 ? names.join(' <- ') : '(no kernel frames)';
}
