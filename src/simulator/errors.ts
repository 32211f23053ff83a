/**
 * Errors thrown by the simulator (`src/simulator`). Match them by `name`, never by message text
 * (`instanceof` breaks across Jest module registries). All are caller errors: not retryable.
 */

/** One problem in a workload: where (`path`, e.g. `submissions[2].durations.train`) and what. */
export interface WorkloadIssue {
  /** The JSON path of the offending value, rendered (`$` for the root). */
  readonly path: string;
  /** What is wrong, e.g. `must be a number ≥ 0 (got "ten")`. */
  readonly message: string;
}

/**
 * A workload failed validation. Thrown by `parseWorkload` / `loadWorkloadFile` with every issue found
 * (never empty), each naming its JSON path.
 */
export class InvalidWorkloadError extends Error {
  /** Always `'InvalidWorkloadError'`. */
  override readonly name = 'InvalidWorkloadError';
  /** @param issues - every problem found (at least one) */
  constructor(readonly issues: readonly WorkloadIssue[]) {
    super(`invalid workload:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
  }
}

/** A workload file could not be read or is not JSON. Thrown by `loadWorkloadFile`. */
export class WorkloadReadError extends Error {
  /** Always `'WorkloadReadError'`. */
  override readonly name = 'WorkloadReadError';
  /**
   * @param file - the path given
   * @param reason - the underlying failure, as text
   */
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`cannot read workload ${file}: ${reason}`);
  }
}

/** An unknown policy name. Thrown by `policyByName` and `simulate`. */
export class UnknownPolicyError extends Error {
  /** Always `'UnknownPolicyError'`. */
  override readonly name = 'UnknownPolicyError';
  /**
   * @param policy - the name given
   * @param known - the valid names
   */
  constructor(
    readonly policy: string,
    readonly known: readonly string[],
  ) {
    super(`unknown policy "${policy}" (known: ${known.join(', ')})`);
  }
}

/**
 * A simulation option is out of range (e.g. `tickSeconds=0`). Thrown by `simulate` before anything runs;
 * `field` names the option.
 */
export class InvalidSimulationOptionError extends Error {
  /** Always `'InvalidSimulationOptionError'`. */
  override readonly name = 'InvalidSimulationOptionError';
  /**
   * @param field - the option's name
   * @param value - the rejected value
   * @param reason - what is wrong
   */
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid simulation option ${field}=${JSON.stringify(value) ?? String(value)}: ${reason}`);
  }
}
