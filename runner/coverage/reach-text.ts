/** The reach report of `fuzz --patch` as text, and the warning when the changed code never ran. */
import type { PatchReach } from './reach.ts';

export function reachText(r: PatchReach, totalRuns: number): string {
  const lines = [
    `reach: ${r.runs} of ${totalRuns} runs ran a changed line (${r.sitesReached} of ${r.sites} changed branch sites); ${r.interleavings} distinct interleavings at the changed preemption points${r.labels.length ? ` (${r.labels.map((l) => JSON.stringify(l)).join(', ')})` : ''}`,
  ];
  for (const f of r.functions) lines.push(`  ${f.name}: entered in ${f.runs} runs${f.opKinds.length ? `, by programs with ${f.opKinds.slice(0, 6).join(', ')}` : ''}`);
  if (r.shapes?.kinds) lines.push(`  directed draws always include ${r.shapes.kinds.join(', ')} (the op kinds of the runs rewarded most at the patch)`);
  if (r.uncovered.length) lines.push(`  changed files without branch coverage (not counted): ${r.uncovered.join(', ')}`);
  const w = reachWarning(r);
  if (w) lines.push(w);
  return lines.join('\n');
}

/** Undefined when some changed line ran. */
export function reachWarning(r: PatchReach): string | undefined {
  if (r.runs > 0 || r.sites === 0) return undefined;
  const entered = r.functions.filter((f) => f.runs > 0);
  const hint = entered.length
    ? `; the changed functions ran (${entered.map((f) => `${f.name} with ${f.opKinds.slice(0, 4).join(', ')}`).join('; ')}): try a longer campaign, or --program with those ops`
    : `; the changed functions (${r.functions.map((f) => f.name).join(', ')}) never ran either: no op of this campaign reaches them`;
  return `warning: the patch's changed lines never ran${hint}`;
}
