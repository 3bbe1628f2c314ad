import { esc } from './escape.ts';
import { lanesHtml } from './html-lanes.ts';
import { CSS, SCRIPT } from './html-style.ts';
import type { ReproView } from './view.ts';

export interface HtmlInput {
  readonly title: string;
  /** Lines under the title: what ran, what it found. */
  readonly summary: readonly string[];
  readonly repros: readonly ReproView[];
}

const LEGEND =
  '<div class="legend"><span>▼ lock acquired</span><span>▲ lock released</span>' +
  '<span style="color:#e16f24">- - ▶ preempted by the schedule</span><span style="color:#8c959f">- - ▶ switch (the task blocked or ended)</span>' +
  '<span style="color:#b31d28">■ the step the violation was found at</span><span style="color:#8250df">■ a step the message names</span>' +
  '<span>┌ └ an op begins, returns</span><span>point at a step for its kernel function stack, at a lock to see it in every lane</span></div>';

/** Where the violation was detected, as a kernel function stack (a traced replay), under the message. */
function detectedIn(v: ReproView): string[] {
  const at = v.interleaving.steps.find((e) => e.step === v.interleaving.mark);
  if (!at?.stack?.length) return [];
  return [`<p class="note">detected at step ${at.step} in <span class="kstack">${esc(at.stack.join(' › '))}</span></p>`];
}

function section(v: ReproView, i: number): string {
  const pass = !v.heading.startsWith('VIOLATION');
  return [
    `<section id="repro-${i + 1}">`,
    `<h2${pass ? ' class="pass"' : ''}>${esc(v.heading)}</h2>`,
    `<p class="msg">${esc(v.message)}</p>`,
    ...detectedIn(v),
    ...v.notes.map((n) => `<p class="note">${esc(n)}</p>`),
    `<pre class="program">${esc(v.program)}</pre>`,
    `<p class="note">schedule: <code>${esc(v.schedule)}</code>${v.interleaving.mark !== undefined ? ` · <a href="#violation-${i + 1}">jump to the violating step</a>` : ''}</p>`,
    LEGEND,
    lanesHtml(v.interleaving, `violation-${i + 1}`),
    '</section>',
  ].join('\n');
}

/**
 * The report as one offline HTML file: inline CSS and script, and a content
 * security policy that forbids every fetch, so it opens the same from a CI
 * artifact on a laptop on a train.
 */
export function htmlReport(r: HtmlInput): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`,
    `<title>${esc(r.title)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>${esc(r.title)}</h1>`,
    ...r.summary.map((l) => `<p class="summary">${esc(l)}</p>`),
    ...r.repros.map(section),
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
