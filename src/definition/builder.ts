/**
 * A typed builder for pipeline definitions in TypeScript. Stage ids are tracked in the type, so
 * `dependsOn` only accepts ids of stages added earlier: a typo or a forward reference (and so a cycle)
 * is a compile error. `build()` validates like `validateDefinition`.
 */
import { type NormalisedPipelineDefinition, type StageDefinition } from './types';
import { assertValidDefinition } from './validate';

/** Pipeline-level options of {@link pipeline}. */
export interface PipelineOptions {
  /** Free-form description. */
  description?: string;
  /** Base importance 0–10 added to every stage's score. @default 0 */
  importance?: number;
}

/**
 * A stage as given to {@link PipelineBuilder.stage}: a {@link StageDefinition} whose `id` is `Id` and
 * whose `dependsOn` names only stages already added (`Known`).
 */
export type StageSpec<Id extends string, Known extends string> = Omit<StageDefinition, 'id' | 'dependsOn'> & {
  /** Unique within the pipeline: `[A-Za-z0-9_.-]{1,64}`. */
  id: Id;
  /** Stages added earlier that must complete first. @default [] */
  dependsOn?: readonly Known[];
};

/** An immutable pipeline under construction; each `stage()` returns a new builder. */
export interface PipelineBuilder<Known extends string = never> {
  /**
   * Returns a builder with `stage` appended. Never throws (rules are checked by `build()`).
   * @param stage the stage; `dependsOn` may name only stages added before it
   */
  stage<const Id extends string>(stage: StageSpec<Id, Known>): PipelineBuilder<Known | Id>;
  /**
   * Validates and returns the normalised definition (defaults filled in).
   * @throws InvalidDefinitionError listing every issue.
   */
  build(): NormalisedPipelineDefinition;
}

function makeBuilder<Known extends string>(
  name: string,
  options: PipelineOptions,
  stages: readonly StageDefinition[],
): PipelineBuilder<Known> {
  return {
    stage<const Id extends string>(stage: StageSpec<Id, Known>): PipelineBuilder<Known | Id> {
      const { dependsOn, ...rest } = stage;
      const added: StageDefinition = dependsOn === undefined ? rest : { ...rest, dependsOn: [...dependsOn] };
      return makeBuilder<Known | Id>(name, options, [...stages, added]);
    },
    build(): NormalisedPipelineDefinition {
      return assertValidDefinition({ name, ...options, stages });
    },
  };
}

/**
 * Starts a pipeline definition.
 *
 * @example
 * const etl = pipeline('nightly-etl', { importance: 2 })
 *   .stage({ id: 'extract', handler: 'qm.sleep', priority: 7, input: { ms: 200 } })
 *   .stage({ id: 'total', handler: 'qm.sum', priority: 9, dependsOn: ['extract'] })
 *   .build();
 *
 * @param name the pipeline name (non-empty, at most 200 characters; checked by `build()`)
 * @param options description and importance
 */
export function pipeline(name: string, options: PipelineOptions = {}): PipelineBuilder {
  return makeBuilder<never>(name, { ...options }, []);
}
