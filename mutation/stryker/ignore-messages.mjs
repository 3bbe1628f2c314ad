// A Stryker ignorer (see stryker.config.mjs): mutants of text that has no
// semantics are not scored. That is the label a task yields at a preemption
// point (it names the step in traces) and the message arguments of BUG_ON,
// WARN_ON, report and the lock assertions (they only say what went wrong once
// it has). Mutating them changes what a report says, never what the model
// does, so they are equivalent by construction. The conditions of those
// calls and the property names passed to report() are still mutated.
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

function shouldIgnore(path) {
  const parent = path.parentPath;
  if (!parent) return undefined;
  // `yield 'label'` (not `yield*`): the argument is a trace label.
  if (parent.isYieldExpression() && !parent.node.delegate && parent.node.argument === path.node) {
    return 'trace label of a preemption point: text only';
  }
  if (parent.isCallExpression() && parent.node.callee.type === 'Identifier') {
    const args = MESSAGE_ARGS[parent.node.callee.name];
    if (args?.includes(parent.node.arguments.indexOf(path.node))) return `message text of ${parent.node.callee.name}(): text only`;
  }
  return undefined;
}

export const strykerPlugins = [declareValuePlugin(PluginKind.Ignore, 'message-text', { shouldIgnore })];
