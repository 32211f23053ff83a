/**
 * The policies the simulator compares. All run the production cycle (`runCycle`) and its placement code;
 * the baselines are configurations of it plus request transforms, so only the ordering, the holds and the
 * negotiation differ. Every baseline has no reduced grants (minimum = desired), no sharding and no
 * degradation:
 * - `quartermaster`: the production configuration: Workflow Score order (saturated requests oldest
 *   first), EASY holds with stable holders, reduced grants, sharding and graceful degradation.
 * - `fifo`: strict FIFO — ready order (ties by arrival sequence); nothing overtakes the first request that
 *   does not fit (no holds, no backfill).
 * - `firstfit`: ready order, first fit: a request that fits starts even when one before it is blocked,
 *   and nothing holds capacity ("FIFO with skip": what a plain Temporal task queue gives).
 * - `easy`: ready order plus EASY backfilling — the first blocked request holds what it will need at its
 *   shadow time (its projected start by expected run times); a later request starts if it ends by then or
 *   fits in the extra capacity the holder will not need.
 * - `priority`: strict priority order (priority weight 1, a tiny age weight orders equal priorities by
 *   ready time), first fit, no holds. What Temporal priority keys give.
 */
import {
  compileSchedulerConfig,
  type PendingRequest,
  type SchedulerConfig,
  type SchedulerOptions,
} from '../scheduling';
import { UnknownPolicyError } from './errors';

/** The policy names, production first. */
export const POLICY_NAMES = ['quartermaster', 'fifo', 'firstfit', 'easy', 'priority'] as const;

/** A policy's name. */
export type PolicyName = (typeof POLICY_NAMES)[number];

/** A compiled policy. */
export interface Policy {
  /** Its name. */
  readonly name: PolicyName;
  /** The config `runCycle` runs with. */
  readonly config: SchedulerConfig;
  /** Whether requests keep `minimum < desired` (reduced grants). */
  readonly reducedGrants: boolean;
  /** Whether shardable stages may be sharded. */
  readonly sharding: boolean;
  /** Whether blocked requests get shrink offers from running grants (`degrade`). */
  readonly degradation: boolean;
}

/** Ready order: the age factor alone (ties by readySince, then arrival sequence). */
const READY_ORDER = { priority: 0, importance: 0, fit: 0, size: 0, age: 1 } as const;

/** Whether `name` is a {@link PolicyName}. */
export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

/**
 * Compiles a policy.
 * @param options - scheduler options for `quartermaster` (the baselines keep their own weights and take
 *   only `forecastSafetyMargin` from it); @default {}
 * @throws UnknownPolicyError for an unknown name; InvalidSchedulerOptionError for bad options.
 */
export function policyByName(name: string, options: SchedulerOptions = {}): Policy {
  if (!isPolicyName(name)) throw new UnknownPolicyError(name, POLICY_NAMES);
  const margin =
    options.forecastSafetyMargin === undefined ? {} : { forecastSafetyMargin: options.forecastSafetyMargin };
  switch (name) {
    case 'quartermaster':
      return {
        name,
        config: compileSchedulerConfig(options),
        reducedGrants: true,
        sharding: true,
        degradation: true,
      };
    case 'fifo':
      return {
        name,
        config: compileSchedulerConfig({ ...margin, weights: READY_ORDER, maxHolds: 0, strictOrder: true }),
        reducedGrants: false,
        sharding: false,
        degradation: false,
      };
    case 'firstfit':
      return {
        name,
        config: compileSchedulerConfig({ ...margin, weights: READY_ORDER, maxHolds: 0 }),
        reducedGrants: false,
        sharding: false,
        degradation: false,
      };
    case 'easy':
      return {
        name,
        config: compileSchedulerConfig({ ...margin, weights: READY_ORDER, maxHolds: 1 }),
        reducedGrants: false,
        sharding: false,
        degradation: false,
      };
    case 'priority':
      return {
        name,
        config: compileSchedulerConfig({
          ...margin,
          // 0.001 < 1/9 (one priority step): age only orders equal priorities.
          weights: { priority: 1, importance: 0, fit: 0, size: 0, age: 0.001 },
          maxHolds: 0,
          enforceStarvationBound: false,
        }),
        reducedGrants: false,
        sharding: false,
        degradation: false,
      };
  }
}

/** The request as `policy` lets the cycle see it: without reduced grants `minimum = desired`, without sharding no `shard`. */
export function requestForPolicy(policy: Policy, request: PendingRequest): PendingRequest {
  if (policy.reducedGrants && policy.sharding) return request;
  const { shard, ...rest } = request;
  return {
    ...rest,
    ...(policy.reducedGrants ? {} : { minimum: request.desired }),
    ...(policy.sharding && shard !== undefined ? { shard } : {}),
  };
}
