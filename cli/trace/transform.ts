import ts from 'typescript';
import { KSTACK_GLOBAL } from './kstack-global.ts';

export { KSTACK_GLOBAL };

/**
 * A kernel source file with every named generator function (`function*
 * do_wp_page`) wrapped in enter/leave bookkeeping: its name is pushed when it
 * starts, popped when it returns or throws, and the first frame a throw
 * passes through reports it. Text is only inserted, so line numbers stay.
 * Used on a temporary copy, for traced replays only: campaigns run the
 * model as written.
 */
export function wrapGenerators(source: string, fileName: string): string {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const edits: { at: number; text: string }[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isMethodDeclaration(n)) && n.asteriskToken && n.body && n.name) {
      const name = n.name.getText(sf);
      const open = n.body.getStart(sf) + 1;
      const close = n.body.getEnd() - 1;
      edits.push({ at: open, text: ` const __k = (globalThis as any).${KSTACK_GLOBAL}; __k?.enter(${JSON.stringify(name)}); try {` });
      edits.push({ at: close, text: `} catch (__e) { __k?.threw(__e); throw __e; } finally { __k?.leave(); } ` });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  let out = source;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.text + out.slice(e.at);
  return out;
}
