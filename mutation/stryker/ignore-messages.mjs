// A Stryker ignorer (see stryker.config.mjs): mutants of text that has no
// semantics are not scored. Mutating it changes what a report or a trace
// says, never what the model does, so these mutants are equivalent by
// construction. What is ignored, and why it is text only:
//  - the label a task yields at a preemption point (`yield 'label'`): it
//    names the step in traces;
//  - the message arguments of BUG_ON, WARN_ON, report and the lock
//    assertions: they say what went wrong once it has (their conditions, and
//    the property name passed to report(), are still mutated);
//  - the names given to locks and KASAN objects (`new Spinlock(name, class)`,
//    `super('folio')`), and the `kname` / `toString()` that format them: used
//    in messages and as lockdep class keys, where any distinct string will do.
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

/** Callee name -> indexes of its message arguments. */
const MESSAGE_ARGS = {
  BUG_ON: [1, 2],
  WARN_ON: [1, 2],
  report: [1],
  mmap_assert_locked: [1],
  mmap_assert_write_locked: [1],
  vma_assert_write_locked: [1],
};
const NAMED = new Set(['Spinlock', 'RwSemaphore', 'BitLock', 'Seqcount', 'Mutex', 'LockClass']);
const FORMATTERS = new Set(['kname', 'toString']);

const isText = (path) => path.isStringLiteral() || path.isTemplateLiteral();
const isLabel = (path) => isText(path) || (path.isConditionalExpression() && isText(path.get('consequent')) && isText(path.get('alternate')));

function shouldIgnore(path) {
  if ((path.isClassMethod() || path.isObjectMethod()) && path.node.key.type === 'Identifier' && FORMATTERS.has(path.node.key.name)) {
    return `${path.node.key.name}(): formats a name for messages`;
  }
  const parent = path.parentPath;
  if (!parent) return undefined;
  // `yield 'label'` or `yield c ? 'a' : 'b'` (not `yield*`, not `yield waitable`): a trace label.
  if (parent.isYieldExpression() && !parent.node.delegate && parent.node.argument === path.node && isLabel(path)) {
    return 'trace label of a preemption point: text only';
  }
  if (!isText(path)) return undefined;
  if (parent.isCallExpression()) {
    const callee = parent.node.callee;
    if (callee.type === 'Super') return 'KASAN object kind: a name';
    if (callee.type === 'Identifier' && MESSAGE_ARGS[callee.name]?.includes(parent.node.arguments.indexOf(path.node))) {
      return `message text of ${callee.name}(): text only`;
    }
  }
  if (parent.isNewExpression() && parent.node.callee.type === 'Identifier' && NAMED.has(parent.node.callee.name)) {
    return `name of a ${parent.node.callee.name}: a name`;
  }
  return undefined;
}

export const strykerPlugins = [declareValuePlugin(PluginKind.Ignore, 'message-text', { shouldIgnore })];
