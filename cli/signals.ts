/**
 * Until the returned release() is called, the first SIGINT or SIGTERM calls
 * stop() (finish the current run, keep what was found) and a second one
 * abort(). Installed only around a campaign, so that outside it (and in a
 * test process running main() in-process) signals keep their usual meaning.
 */
export function onInterrupt(stop: () => void, abort: () => void): () => void {
  let count = 0;
  const handler = (): void => {
    if (count++ === 0) stop();
    else abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
