/**
 * The bounded form of a rejected workflow argument, as the workflow failure carries it. Imported by
 * workflows: no schema library here (see `workflow-args.ts`).
 */
import { MAX_REPORTED_ISSUES } from '../definition/limits';
import { type DefinitionIssue, formatIssue } from '../definition/issues';
import type { NormalisedPipelineDefinition } from '../definition/types';

/**
 * The workflow failure type of a bad argument: `InvalidArgumentError` when the wrapper itself is wrong
 * (not an object, no `definition`, an unknown key, a bad `importance` or `input`), `InvalidDefinitionError`
 * when only the definition is.
 */
export type PipelineArgsErrorType = 'InvalidArgumentError' | 'InvalidDefinitionError';

/** A rejected argument as its workflow fails with it: the failure type, bounded message and issues. */
export interface ArgsRejection {
  /** Which failure to raise. */
  type: PipelineArgsErrorType;
  /** The failure's message (every reported issue, one per line). */
  message: string;
  /** The failure's `details[0]`: the issues, bounded, without the bad values. */
  issues: ReportedIssue[];
  /** The pipeline's name when the argument carries one as a string, for `QmPipeline`. */
  pipelineName?: string;
}

/**
 * What checking `pipelineWorkflow`'s argument answers inside the workflow (`checkPipelineArgs`): the normalised
 * definition and the importance to run at, or the rejection. The argument's `input` and `carry` are taken
 * from the argument itself (checked, not copied: the answer is recorded in history).
 */
export type CheckedPipelineArgs =
  | { ok: true; definition: NormalisedPipelineDefinition; importance: number }
  | ({ ok: false } & ArgsRejection);

/** An issue as a workflow failure carries it: without the bad value (which may be huge), path text cut. */
export interface ReportedIssue {
  /** What went wrong. */
  code: DefinitionIssue['code'];
  /** Where, from the argument's root. */
  pathText: string;
  /** What is wrong (names a short form of the bad value). */
  message: string;
}

const MAX_LINE = 300;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The message and details of the workflow failure for a rejected argument, bounded whatever the input:
 * at most {@link MAX_REPORTED_ISSUES} issues (the rest counted), each line at most 300 characters, and
 * no bad value (only its short description in the message).
 */
export function pipelineArgsFailure(issues: readonly DefinitionIssue[]): {
  message: string;
  issues: ReportedIssue[];
} {
  const shown = issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
    code: issue.code,
    pathText: cut(issue.pathText, 200),
    message: cut(issue.message, MAX_LINE),
  }));
  const more = issues.length - shown.length;
  const lines = shown.map((issue) => cut(formatIssue(issue), MAX_LINE));
  if (more > 0) lines.push(`… and ${more} more issue${more === 1 ? '' : 's'}`);
  return { message: `invalid pipelineWorkflow argument:\n${lines.join('\n')}`, issues: shown };
}
