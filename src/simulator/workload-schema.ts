/**
 * The zod (v4) schema of a simulator workload, with a description on every field (they become the JSON
 * Schema's descriptions). The pipeline definitions inside are checked by `validateDefinition` (the same
 * rules as production); this schema only embeds the definition schema for the exported JSON Schema.
 */
import { z } from 'zod';
import { pipelineDefinitionSchema, RESOURCE_NAME_PATTERN } from '../definition/schema';

const NUMBER_GE0 = 'must be a finite number ≥ 0';
const quantity = z.number({ error: NUMBER_GE0 }).min(0, { error: NUMBER_GE0 });
const seconds = z.number({ error: NUMBER_GE0 }).min(0, { error: NUMBER_GE0 });
const resourceName = z.string().regex(RESOURCE_NAME_PATTERN, {
  error: `resource names must match ${RESOURCE_NAME_PATTERN.source}`,
});

/** Background metrics a node may carry (the monitor's forecast metrics). */
export const BACKGROUND_METRICS = ['cpu', 'memoryMb', 'diskIoMBps', 'netMbps'] as const;

const point = z
  .tuple([seconds, quantity], { error: 'must be a [seconds, value] pair of numbers ≥ 0' })
  .describe(
    '[time in seconds since the start, usage in the resource unit]; the value holds until the next point.',
  );

const series = z
  .array(point, { error: 'must be an array of [seconds, value] pairs' })
  .min(1, { error: 'must have at least one point' })
  .describe('A step function of usage over time, points in ascending time.');

/** Builds the workload schema around `definition` (the full pipeline schema for the JSON Schema, `z.unknown()` to validate). */
export function buildWorkloadSchema(definition: z.ZodType) {
  const node = z
    .strictObject(
      {
        id: z
          .string({ error: 'must be a non-empty string' })
          .min(1, { error: 'must be a non-empty string' })
          .describe('Node id (unique).'),
        capacity: z
          .record(resourceName, quantity)
          .describe('Host capacity: cpu (cores), memoryMb (MiB), gpu (devices), diskIoMBps, netMbps.'),
      },
      { error: 'must be an object { id, capacity }' },
    )
    .describe('A worker node.');
  const boost = z
    .strictObject(
      {
        at: seconds.describe('When the boost is given, seconds since the start.'),
        amount: quantity.describe('Importance added while it lasts.'),
        ttlSeconds: z
          .number({ error: 'must be a number > 0' })
          .gt(0, { error: 'must be a number > 0' })
          .describe('How long it lasts, seconds.'),
      },
      { error: 'must be an object { at, amount, ttlSeconds }' },
    )
    .describe('An importance boost of the submitted pipeline.');
  const submission = z
    .strictObject(
      {
        at: seconds.describe('Submission time, seconds since the start of the simulation.'),
        definition,
        durations: z
          .record(z.string(), seconds)
          .describe('Stage id → run time in seconds at its desired allocation (every stage needs one).'),
        expectedSeconds: z
          .record(z.string(), seconds)
          .optional()
          .describe(
            'Stage id → what the scheduler is told the run time will be (for backfill and wait estimates); @default durations',
          ),
        boosts: z.array(boost).optional().describe('Importance boosts; @default []'),
      },
      { error: 'must be an object { at, definition, durations }' },
    )
    .describe('One pipeline started at a given time.');
  return z
    .strictObject(
      {
        $schema: z.string().optional().describe('Editors: the JSON Schema of this file.'),
        cluster: z
          .strictObject(
            {
              nodes: z
                .array(node, { error: 'must be an array of nodes' })
                .min(1, { error: 'must have at least one node' })
                .describe('The worker nodes.'),
              pools: z
                .record(resourceName, quantity)
                .optional()
                .describe('Cluster-wide custom pools: name → capacity; @default {}'),
            },
            { error: 'must be an object { nodes, pools? }' },
          )
          .describe('The cluster.'),
        submissions: z
          .array(submission, { error: 'must be an array of submissions' })
          .min(1, { error: 'must have at least one submission' })
          .describe('Pipelines and when they are submitted.'),
        background: z
          .record(
            z.string(),
            z
              .strictObject(
                {
                  cpu: series.optional(),
                  memoryMb: series.optional(),
                  diskIoMBps: series.optional(),
                  netMbps: series.optional(),
                },
                { error: `must be an object of metrics (${BACKGROUND_METRICS.join(', ')})` },
              )
              .describe('Metric → usage over time the scheduler did not start.'),
          )
          .optional()
          .describe(
            'Node id → load the scheduler did not start; it sees it only through the forecaster. @default {}',
          ),
      },
      { error: 'must be an object { cluster, submissions, background? }' },
    )
    .meta({
      title: 'Quartermaster simulator workload',
      description: 'A cluster, pipelines submitted over time with their run times, and background load.',
    });
}

/** The schema the JSON Schema is generated from (definitions fully described). */
export const workloadSchemaForDocs = buildWorkloadSchema(pipelineDefinitionSchema);

/** The schema `parseWorkload` validates with (definitions checked afterwards by `validateDefinition`). */
export const workloadSchema = buildWorkloadSchema(z.unknown());
