/** One step as it ran: which task, at which label, and the lock events in it. */
export interface TraceEntry {
  readonly step: number;
  readonly task: number;
  readonly label: string;
  readonly events: readonly string[];
  /** Traced runs only (cli/trace): the kernel functions the task is in after this step, outermost first. */
  stack?: readonly string[];
}

/**
 * The trace of an execution. `toText` is the canonical byte-for-byte form the
 * determinism test compares; `toLanes` is for people: one column per task.
 */
export class Trace {
  readonly entries: TraceEntry[] = [];
  readonly taskNames: string[] = [];

  toText(): string {
    let s = '';
    for (const e of this.entries) {
      s += `${e.step} ${this.taskNames[e.task]} ${e.label}`;
      if (e.events.length > 0) s += ` [${e.events.join('; ')}]`;
      s += '\n';
    }
    return s;
  }

  /**
   * Lanes: a row per step, a column per task, the step's label (and its lock
   * events) in the column of the task that ran it. `mark` flags one step, the
   * one at which a violation was found.
   */
  toLanes(options: { width?: number; mark?: number } = {}): string {
    const width = options.width ?? 30;
    const n = this.taskNames.length;
    const cell = (s: string): string => (s.length > width ? s.slice(0, width - 1) + '…' : s.padEnd(width));
    const stepW = Math.max(4, String(this.entries.length).length + 1);
    const lines: string[] = [];
    lines.push(' '.repeat(stepW + 3) + this.taskNames.map(cell).join(' | '));
    lines.push('-'.repeat(stepW + 3 + n * (width + 3)));
    for (const e of this.entries) {
      const cols: string[] = [];
      for (let t = 0; t < n; t++) {
        if (t !== e.task) cols.push(cell(''));
        else cols.push(cell(e.events.length > 0 ? `${e.label} {${e.events.join('; ')}}` : e.label));
      }
      const marker = e.step === options.mark ? '>>' : '  ';
      lines.push(`${marker}${String(e.step).padStart(stepW)} ${cols.join(' | ')}`.trimEnd());
    }
    return lines.join('\n');
  }
}
