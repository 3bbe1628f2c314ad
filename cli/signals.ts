/**
 * A second signal this soon after the first is the same Ctrl-C: the terminal
 * sends SIGINT to the whole process group, and `npx`/`npm exec` forwards the
 * one it got to mmfuzz as well.
 */
export const SAME_SIGNAL_MS = 500;

/**
 * Until the returned release() is called, the first SIGINT or SIGTERM calls
 * stop() (finish the current run, keep what was found) and a second one
 * abort(). Installed only around a campaign, so that outside it (and in a
 * test process running main() in-process) signals keep their usual meaning.
 */
export function onInterrupt(stop: () => void, abort: () => void): () => void {
  let first: bigint | undefined;
  const handler = (): void => {
    const now = process.hrtime.bigint();
    if (first === undefined) {
      first = now;
      stop();
    } else if (Number(now - first) / 1e6 >= SAME_SIGNAL_MS) abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
