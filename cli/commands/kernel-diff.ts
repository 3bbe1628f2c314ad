import { formatProgram } from '../../engine/program/format.ts';
import { ABSTRACTIONS } from '../../live/abstractions.ts';
import { kernelDiff, type DiffResult } from '../../live/diff.ts';
import { KernelUnavailableError } from '../../live/errors.ts';
import { NOT_EXPRESSED, PIN_NOT_EXPRESSED } from '../../live/expressible.ts';
import { sideBySide } from '../../live/side-by-side.ts';
import { formatPages } from '../../live/compare.ts';
import type { ThpMode } from '../../live/encode.ts';
import { NOT_IN_THP_MODE } from '../../live/thp-programs.ts';
import { thpUnavailable } from '../../live/thp-available.ts';
import { println, type Io } from '../io.ts';
import { onInterrupt } from '../signals.ts';

export interface KernelDiffFlags {
  readonly runs?: number;
  readonly seed?: number;
  readonly json?: boolean;
  /** THP mode: the kernel's transparent_hugepage/enabled for the runs ('always' or 'madvise'). */
  readonly thp?: ThpMode;
}

const notExpressed = [...Object.entries(NOT_EXPRESSED).map(([k, why]) => `${k}: ${why}`), `pin: ${PIN_NOT_EXPRESSED}`];

function report(r: DiffResult, io: Io, thp?: ThpMode): void {
  const out = io.stdout;
  println(out, `kernel diff${thp ? ` --thp ${thp}` : ''}: ${r.runs} programs, ${r.compared} compared op by op (${r.ops} ops), ${r.notSequential} skipped (not one op at a time on the model)`);
  if (r.observed) {
    const pages = Object.entries(r.observed.pages).sort().map(([c, n]) => `${c} ${n}`).join(', ');
    println(out, `page states compared after ${r.observed.boundaries} ops (model pages seen there: ${pages}; H PMD-mapped THP, Z huge zero page, t PTE-mapped page of a THP, z zero page, p small page, s swapped)`);
  }
  println(out, 'not expressed on the kernel (never generated):');
  for (const l of notExpressed) println(out, `  ${l}`);
  if (thp) for (const [k, why] of Object.entries(NOT_IN_THP_MODE)) println(out, `  ${k} (THP mode): ${why}`);
  println(out, 'named abstractions (programs where one explained a difference):');
  for (const a of ABSTRACTIONS) println(out, `  ${String(r.abstractions[a.name] ?? 0).padStart(5)}  ${a.name}: ${a.why}`);
  if (r.differences.length === 0) println(out, 'no other difference');
  for (const d of r.differences) {
    println(out, '');
    println(out, `DIFFERENCE ${d.signature} (${d.count} program(s); shrunk in ${d.shrinkTries} tries; order seed ${d.seed})`);
    println(out, 'program:');
    for (const l of formatProgram(d.program).split('\n')) println(out, `  ${l}`);
    println(out, 'the run, model beside kernel:');
    if (d.difference.pages) println(out, `pages (page model/kernel): ${formatPages(d.difference.pages)}`);
    for (const l of sideBySide(d.program, d.seed, thp)) println(out, l);
  }
}

export function kernelDiffCommand(flags: KernelDiffFlags, io: Io): number {
  let stop = false;
  const off = onInterrupt(
    () => (stop = true),
    () => process.exit(130),
  );
  try {
    const noThp = flags.thp && thpUnavailable(flags.thp);
    if (noThp) {
      println(io.stderr, `mmfuzz kernel diff: --thp ${flags.thp} cannot run here: ${noThp}`);
      return 2;
    }
    const runs = flags.runs ?? 200;
    const progress = (n: number) => {
      if (io.stderr.isTTY && n % 100 === 0) io.stderr.write(`\rkernel diff: ${n}/${runs}`);
    };
    const r = kernelDiff({ runs, seed: flags.seed ?? 0, stopped: () => stop, onProgress: progress, ...(flags.thp ? { thp: flags.thp } : {}) });
    if (io.stderr.isTTY) io.stderr.write('\n');
    report(r, io, flags.thp);
    if (flags.json) println(io.stdout, JSON.stringify({ ...r, notExpressed, ...(flags.thp ? { thp: flags.thp } : {}) }));
    return r.differences.length > 0 ? 1 : 0;
  } catch (e) {
    if (!(e instanceof KernelUnavailableError)) throw e;
    println(io.stderr, `mmfuzz kernel diff: ${e.message}`);
    return 2;
  } finally {
    off();
  }
}
