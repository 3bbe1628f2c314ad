export interface TapInput {
  /** Every property the campaign checked: one test each. */
  readonly properties: readonly string[];
  readonly failures: readonly { readonly property: string; readonly message: string; readonly report: string }[];
  /** The campaign as typed (seed, shard, patch): the suite's name. */
  readonly suite: string;
}

/** A line of a report as a KTAP diagnostic: `# ` before it, no control characters. */
const diag = (line: string): string => `# ${line.replace(/[\u0000-\u001f\u007f]/g, ' ')}`.trimEnd();

/**
 * KTAP (the kernel's test output, Documentation/dev-tools/ktap.rst), for
 * kernel CI that reads kselftest and KUnit results: one test per property,
 * `not ok` when the campaign found a violation of it, the repro as
 * diagnostic lines above its result line.
 */
export function ktap(t: TapInput): string {
  const names = [...new Set([...t.properties, ...t.failures.map((f) => f.property)])];
  const lines = ['KTAP version 1', diag(`mmfuzz: ${t.suite}`), `1..${names.length}`];
  names.forEach((name, i) => {
    const mine = t.failures.filter((f) => f.property === name);
    for (const f of mine) lines.push(...f.report.split('\n').map(diag));
    lines.push(mine.length === 0 ? `ok ${i + 1} ${name}` : `not ok ${i + 1} ${name}`);
  });
  return `${lines.join('\n')}\n`;
}
