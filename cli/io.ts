/** Where a command writes: the process's streams, or a test's buffers. */
export interface Stream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface Io {
  readonly stdout: Stream;
  readonly stderr: Stream;
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

export function println(s: Stream, text: string): void {
  s.write(`${text}\n`);
}
