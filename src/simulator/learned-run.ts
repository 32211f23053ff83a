/**
 * A simulation with learned run times, warmed up as production would be: a first run of the workload with
 * an empty history (learning as it goes, like a fresh ledger), then the measured run, whose history starts
 * from the first run's execution records.
 */
import type { ExecutionRecord } from '../execution/record';
import { toExecutionRecords } from './records';
import { simulate, type SimulateOptions } from './simulate';
import type { SimulationTrace } from './trace';
import type { Workload } from './workload';

/** The two runs of {@link simulateLearned}. */
export interface LearnedSimulation {
  /** The warm-up run (learned run times from an empty history). */
  readonly warmUp: SimulationTrace;
  /** The records of the warm-up run: the history the measured run starts from. */
  readonly history: readonly ExecutionRecord[];
  /** The measured run. */
  readonly trace: SimulationTrace;
}

/**
 * Simulates `workload` twice with `runTimes: 'learned'`: a warm-up run from an empty history (its timeline is
 * always recorded: its records are the history), then the measured run learning from the warm-up's records
 * and from its own completed runs. Keys are production's (definition name, stage id, handler): a workload
 * whose every pipeline has its own definition name learns nothing across pipelines.
 * @param options - as {@link simulate}, without `runTimes` and `learnedFrom`
 * @throws as {@link simulate}.
 */
export function simulateLearned(
  workload: Workload,
  options: Omit<SimulateOptions, 'runTimes' | 'learnedFrom'> = {},
): LearnedSimulation {
  const warmUp = simulate(workload, { ...options, runTimes: 'learned', recordTimeline: true });
  const history = toExecutionRecords(warmUp).records;
  const trace = simulate(workload, { ...options, runTimes: 'learned', learnedFrom: history });
  return { warmUp, history, trace };
}
