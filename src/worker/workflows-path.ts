/**
 * The module that exports Quartermaster's workflows, for `workflowsPath`/`bundleWorkflowCode`.
 * Resolves to `workflows/index.ts` from source and `dist/workflows/index.js` when built.
 */
export function workflowsPath(): string {
  return require.resolve('../../workflows');
}
