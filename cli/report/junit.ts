import { esc } from './escape.ts';

export interface JunitInput {
  /** The testsuite's name: the campaign as typed (seed, shard, patch). */
  readonly suite: string;
  /** Every property the campaign checked: one testcase each. */
  readonly properties: readonly string[];
  /** Console reports (property, message, program, schedule, lanes) by property. */
  readonly failures: readonly { readonly property: string; readonly message: string; readonly report: string }[];
  readonly seconds: number;
  /** Shown as <properties>: seed, runs, execs/s, ... */
  readonly facts: Readonly<Record<string, string | number | boolean | undefined>>;
}

const attrs = (a: Record<string, string | number>): string =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${esc(String(v))}"`)
    .join('');

function testcase(property: string, failures: JunitInput['failures']): string {
  const mine = failures.filter((f) => f.property === property);
  const open = `    <testcase${attrs({ classname: 'mmfuzz.properties', name: property })}`;
  if (mine.length === 0) return `${open}/>`;
  // JUnit allows one <failure> per testcase: one per bug would be read as one anyway.
  const message = mine.length === 1 ? mine[0]!.message : `${mine[0]!.message} (and ${mine.length - 1} more)`;
  const body = mine.map((f) => f.report).join('\n\n');
  return `${open}>\n      <failure${attrs({ message, type: property })}>${esc(body)}</failure>\n    </testcase>`;
}

/**
 * JUnit XML for CI dashboards: one testcase per property, failed when the
 * campaign found a violation of it, the repro as the failure's text.
 */
export function junitXml(j: JunitInput): string {
  const names = [...new Set([...j.properties, ...j.failures.map((f) => f.property)])];
  const failed = names.filter((n) => j.failures.some((f) => f.property === n)).length;
  const counts = { tests: names.length, failures: failed, errors: 0, skipped: 0, time: j.seconds.toFixed(3) };
  const facts = Object.entries(j.facts)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `      <property${attrs({ name: k, value: String(v) })}/>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'mmfuzz', ...counts })}>`,
    `  <testsuite${attrs({ name: j.suite, ...counts })}>`,
    ...(facts.length ? ['    <properties>', ...facts, '    </properties>'] : []),
    ...names.map((n) => testcase(n, j.failures)),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
