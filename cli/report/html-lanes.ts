import type { TraceEntry } from '../../engine/index.ts';
import { esc } from './escape.ts';
import type { Interleaving } from './view.ts';

/** A lock event (`+mmap_lock(mm#1)(r)`, `-ptl(mm#1:12)`), a violation, or a WARN_ON note. */
function event(e: string): string {
  const m = /^([+-])(.*?)(\(r\))?$/.exec(e);
  if (!m || e === 'VIOLATION') return `<span class="ev ${e === 'VIOLATION' ? 'viol' : 'warn'}">${esc(e)}</span>`;
  const [, sign, lock, read] = m;
  const what = sign === '+' ? (read ? 'acquire (read)' : 'acquire') : 'release';
  return `<span class="ev ${sign === '+' ? 'acq' : 'rel'}" data-lock="${esc(lock!)}" title="${what} ${esc(lock!)}">${sign === '+' ? '▼' : '▲'} ${esc(lock!)}${read ? ' (r)' : ''}</span>`;
}

/** The kernel function stack of a traced step: on hover, and written out under the violating step. */
function stackOf(e: TraceEntry, shown: boolean): { title: string; below: string } {
  const s = e.stack ?? [];
  if (s.length === 0) return { title: '', below: '' };
  const text = s.join(' › ');
  return { title: ` title="${esc(text)}" data-stack="${esc(text)}"`, below: shown ? `<div class="kstack">${esc(text)}</div>` : '' };
}

/** Every lane's cell of one row: the lifeline, and the step's box in its task's lane. */
function stepRow(e: TraceEntry, lanes: number, bad: string | undefined, named: boolean): string {
  const cls = bad ? ' bad' : named ? ' named' : '';
  const cells = [`<div class="st${cls}"${bad ? ` id="${bad}"` : ''}${named ? ` data-named="${e.step}"` : ''}>${e.step}</div>`];
  const k = stackOf(e, bad !== undefined);
  for (let t = 0; t < lanes; t++) {
    if (t !== e.task) cells.push(`<div class="life${cls}"></div>`);
    else cells.push(`<div class="life${cls}"><div class="box"${k.title}>${esc(e.label)}${e.events.map(event).join('')}${k.below}</div></div>`);
  }
  return cells.join('');
}

/** An op's start (┌ mmap r0 3p rw) or return (└ returned 0) in its task's lane. */
function opRow(task: number, lanes: number, text: string, cls: string): string {
  const cells = [`<div class="st op-st">${cls === 'begin' ? '┌' : '└'}</div>`];
  for (let t = 0; t < lanes; t++) cells.push(t === task ? `<div class="life"><div class="op ${cls}">${esc(text)}</div></div>` : '<div class="life"></div>');
  return cells.join('');
}

/** The hand-over from one task to the next: an arrow across the lanes between them. */
function hopRow(from: number, to: number, lanes: number, preempted: boolean): string {
  const dir = to > from ? 'r' : 'l';
  const [lo, hi] = [Math.min(from, to), Math.max(from, to)];
  const cells = [`<div class="st hop-st ${preempted ? 'pre' : ''}">${preempted ? 'preempt' : 'switch'}</div>`];
  for (let t = 0; t < lanes; t++) {
    const part = t === from ? 'from' : t === to ? 'to' : t > lo && t < hi ? 'mid' : '';
    cells.push(`<div class="life hop${part ? ` ${part} ${dir}` : ''}${preempted ? ' pre' : ''}"></div>`);
  }
  return cells.join('');
}

/**
 * The interleaving as a sequence diagram: a column per task (its lifeline),
 * a row per step, lock acquire (▼) and release (▲) marked, an arrow where the
 * CPU passes from one task to another (orange when the schedule preempted),
 * the step the violation was found at in red, with the id `anchor`, and the
 * steps the message names in purple; where each op begins and returns; with
 * a traced run, each step's kernel function stack on hover (written out under
 * the violating step).
 */
export function lanesHtml(il: Interleaving, anchor: string): string {
  const n = il.tasks.length;
  const preempted = new Set(il.preempted);
  const named = new Set(il.named ?? []);
  const begins = new Map((il.ops ?? []).filter((o) => o.begin !== undefined).map((o) => [o.step, o]));
  const ends = new Map((il.ops ?? []).filter((o) => o.returned !== undefined).map((o) => [o.step, o]));
  const rows = [`<div class="st hd">step</div>`, ...il.tasks.map((t) => `<div class="hd lane">${esc(t)}</div>`)];
  let prev: number | undefined;
  for (const e of il.steps) {
    if (prev !== undefined && prev !== e.task) rows.push(hopRow(prev, e.task, n, preempted.has(e.step)));
    const b = begins.get(e.step);
    if (b) rows.push(opRow(b.task, n, b.begin!, 'begin'));
    rows.push(stepRow(e, n, e.step === il.mark ? anchor : undefined, named.has(e.step)));
    const r = ends.get(e.step);
    if (r) rows.push(opRow(r.task, n, `returned ${r.returned}`, 'end'));
    prev = e.task;
  }
  const last = il.steps.at(-1)?.step ?? -1;
  if (il.mark !== undefined && il.mark > last) {
    rows.push(`<div class="st bad" id="${anchor}">${il.mark}</div><div class="endcheck bad" style="grid-column: 2 / span ${n}">violation found by the check at the end of the run</div>`);
  }
  return `<div class="seq" style="grid-template-columns: 5.5em repeat(${n}, minmax(11em, 1fr))">${rows.join('')}</div>`;
}
