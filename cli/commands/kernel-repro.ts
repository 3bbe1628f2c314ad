import { loadEntry } from '../../corpus/store.ts';
import { KernelUnavailableError } from '../../live/errors.ts';
import { handReproDir } from '../../live/findings/hand-repro.ts';
import { runRepro } from '../../live/repro/run.ts';
import { println, type Io } from '../io.ts';

export interface KernelReproFlags {
  /** Milliseconds. */
  readonly time?: number;
  readonly out?: string;
  readonly json?: boolean;
}

/**
 * Properties whose violation a user sees: a value read, a write that went
 * through. Any entry with a hand-written reproducer (live/findings/) has one
 * (a liveness entry's: an access that never completes).
 */
const USER_VISIBLE = new Set(['data-integrity', 'gup-pin-coherence']);

export function kernelReproCommand(file: string, flags: KernelReproFlags, io: Io): number {
  const entry = loadEntry(file);
  if (!USER_VISIBLE.has(entry.property) && !handReproDir(file)) {
    println(io.stderr, `mmfuzz kernel repro: ${file} violates ${entry.property}, which a user cannot see on a kernel; give a data-integrity entry`);
    return 2;
  }
  const seconds = Math.max(1, Math.round((flags.time ?? 60_000) / 1000));
  try {
    const r = runRepro(entry, file, seconds, flags.out);
    const rate = r.iterations ? ` (${((r.hits / r.iterations) * 1e6).toFixed(1)} per million loop iterations)` : '';
    println(io.stdout, `reproducer: ${r.cFile} (build: cc -O2 -pthread; run as root: ./repro SECONDS)`);
    if (r.leftOut.length) println(io.stdout, `left out: ${r.leftOut.join('; ')}`);
    println(io.stdout, `ran ${r.seconds} s on Linux ${r.kernel}: ${r.iterations} loop iterations, ${r.hits} hit(s)${rate}`);
    println(io.stdout, r.hits ? `SYMPTOM: ${r.symptom} — the kernel shows the bug` : 'no symptom: the kernel did not show the bug in this time');
    if (flags.json) println(io.stdout, JSON.stringify(r));
    return r.hits > 0 ? 1 : 0;
  } catch (e) {
    if (!(e instanceof KernelUnavailableError)) throw e;
    println(io.stderr, `mmfuzz kernel repro: ${e.message}`);
    return 2;
  }
}
