// Moved to project/ (issue 17: corpus/ and cli/ no longer import mutation/).
// Kept as a re-export for the imports in other branches; import project/ instead.
export { PROJECT_ROOT } from '../project/root.ts';
export { Workspace } from '../project/workspace.ts';
export { applyTo, checkApplies, patchedFiles } from '../project/patch-apply.ts';
