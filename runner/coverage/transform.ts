/**
 * Branch coverage of the model by a source transform: every branch of a file
 * (function entry, if/else both ways, each case, loop body, catch, both arms
 * of ?:, the right side of && || ??) gets a counter `__mmcov[k]++`. The
 * insertions never add a line, so a counter's lines are the source's lines.
 * Pure (text in, text out): the load hook (hook.ts) calls it, and so do tests.
 */
import ts from 'typescript';

/** One counter: the lines of the code it guards (1-based, inclusive) and its function. */
export interface BranchSite {
  readonly line: number;
  readonly endLine: number;
  /** Index into InstrumentResult.functions. */
  readonly fn: number;
  readonly kind: string;
}

export interface InstrumentResult {
  readonly code: string;
  readonly sites: readonly BranchSite[];
  readonly functions: readonly string[];
}

export const COUNTERS = '__mmcov';

interface Insertion {
  readonly pos: number;
  readonly text: string;
  /** An opener starts a wrap; a closer (or an added else) ends one. */
  readonly open: boolean;
  /** AST depth of what it wraps: at one position the deeper closer comes first, the shallower opener. */
  readonly depth: number;
}

/** Application order (from the end of the text; at one position, what is applied last ends up first). */
function byApplication(a: Insertion, b: Insertion): number {
  if (a.pos !== b.pos) return b.pos - a.pos;
  if (a.open !== b.open) return a.open ? -1 : 1;
  return a.open ? b.depth - a.depth : a.depth - b.depth;
}

function functionName(n: ts.Node, sf: ts.SourceFile): string {
  const named = n as { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) return named.name.text;
  if (named.name) return named.name.getText(sf);
  const p = n.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p)) return p.name.getText(sf);
  return '(anonymous)';
}

/** Instrument one TypeScript module. `prologue(sites, functions)` gives the counters' declaration. */
export function instrument(source: string, fileName: string, prologue: (n: number, sites: readonly BranchSite[], functions: readonly string[]) => string): InstrumentResult {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const ins: Insertion[] = [];
  const sites: BranchSite[] = [];
  const functions: string[] = ['(module)'];
  const line = (pos: number): number => sf.getLineAndCharacterOfPosition(pos).line + 1;
  let fn = 0;
  let depth = 0;

  const site = (n: ts.Node, kind: string): string => {
    sites.push({ line: line(n.getStart(sf)), endLine: line(n.end), fn, kind });
    return `${COUNTERS}[${sites.length - 1}]++`;
  };
  /** A statement position: into the block, or the statement wrapped in one. */
  const statement = (s: ts.Statement, kind: string): void => {
    const c = site(s, kind);
    if (ts.isBlock(s)) ins.push({ pos: s.getStart(sf) + 1, text: ` ${c};`, open: true, depth: depth + 1 });
    else {
      ins.push({ pos: s.getStart(sf), text: `{ ${c}; `, open: true, depth: depth + 1 });
      ins.push({ pos: s.end, text: ' }', open: false, depth: depth + 1 });
    }
  };
  const expression = (e: ts.Expression, kind: string): void => {
    const c = site(e, kind);
    ins.push({ pos: e.getStart(sf), text: `(${c}, `, open: true, depth: depth + 1 });
    ins.push({ pos: e.end, text: ')', open: false, depth: depth + 1 });
  };

  const visit = (n: ts.Node): void => {
    if (ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n) || ts.isTypeNode(n)) return;
    depth++;
    try {
      visitNode(n);
    } finally {
      depth--;
    }
  };
  const visitNode = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const saved = fn;
      functions.push(functionName(n, sf));
      fn = functions.length - 1;
      const body = n.body as ts.Node;
      if (ts.isBlock(body)) statement(body, 'function');
      else expression(body as ts.Expression, 'function');
      ts.forEachChild(n, visit);
      fn = saved;
      return;
    }
    if (ts.isIfStatement(n)) {
      statement(n.thenStatement, 'then');
      if (n.elseStatement) statement(n.elseStatement, 'else');
      else {
        sites.push({ line: line(n.getStart(sf)), endLine: line(n.end), fn, kind: 'implicit-else' });
        ins.push({ pos: n.end, text: ` else { ${COUNTERS}[${sites.length - 1}]++; }`, open: false, depth: depth + 0.5 });
      }
    } else if (ts.isCaseClause(n) || ts.isDefaultClause(n)) {
      const c = site(n, 'case');
      ins.push({ pos: n.statements.pos, text: ` ${c};`, open: true, depth: depth + 1 });
    } else if (ts.isIterationStatement(n, false)) {
      statement(n.statement, 'loop');
    } else if (ts.isCatchClause(n)) {
      statement(n.block, 'catch');
    } else if (ts.isConditionalExpression(n)) {
      expression(n.whenTrue, 'cond-true');
      expression(n.whenFalse, 'cond-false');
    } else if (ts.isBinaryExpression(n)) {
      const k = n.operatorToken.kind;
      if (k === ts.SyntaxKind.AmpersandAmpersandToken || k === ts.SyntaxKind.BarBarToken || k === ts.SyntaxKind.QuestionQuestionToken) expression(n.right, 'logical');
    }
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(sf, visit);

  ins.sort(byApplication);
  let code = source;
  for (const i of ins) code = code.slice(0, i.pos) + i.text + code.slice(i.pos);
  // The prologue goes on the first line, so that no line moves.
  return { code: `${prologue(sites.length, sites, functions)} ${code}`, sites, functions };
}
