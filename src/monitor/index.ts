/**
 * Quartermaster's resource monitor and short-horizon forecaster: samples this node's usage and
 * predicts it 1–10 s ahead with an error band, so the scheduler can act before a conflict.
 *
 * @example
 * import { Sampler, NodeForecaster, snapshotForLedger } from './monitor';
 * const forecaster = new NodeForecaster(); // DEFAULT_MODEL
 * const sampler = new Sampler({
 *   onSample: (sample) => {
 *     forecaster.update(sample);
 *     publish(snapshotForLedger(sample, forecaster)); // { at, usage, forecast: { "5": …, "10": … } }
 *   },
 * });
 * await sampler.start();
 */
export { Sampler, MIN_INTERVAL_MS, type SamplerOptions } from './sampler';
export { RingBuffer, type NumberWindow } from './ring-buffer';
export {
  readCgroupLimits,
  parseCpuMax,
  parseMemoryMax,
  DEFAULT_CGROUP_ROOT,
  type CgroupLimits,
} from './cgroup';
export { parseNvidiaSmiCsv, queryNvidiaSmi, type NvidiaSmiOptions } from './gpu';
export { detectCapacity, type DetectedCapacity } from './capacity';
export type { Probes, CpuTimes } from './probes';
export { METRIC_NAMES, type MetricName, type UsageSample, type GpuReading, type ProbeNote } from './types';
export { InvalidMonitorOptionError, TraceFormatError, SamplerStateError } from './errors';
export {
  parseTrace,
  readTraceFile,
  serializeTrace,
  toTraceSample,
  traceMetrics,
  type Trace,
  type TraceSample,
} from './trace';
export { recordTrace, type RecordOptions } from './record';
export {
  evaluateTrace,
  evaluationToJson,
  maeRatio,
  type ErrorStats,
  type TraceEvaluation,
  type EvaluateOptions,
} from './evaluate';
export {
  NodeForecaster,
  snapshotForLedger,
  type NodeForecasterOptions,
  type NodeSnapshot,
  type MetricForecasts,
  type GpuForecast,
  type PublishedForecasts,
} from './node-forecaster';
export { createForecaster, DEFAULT_MODEL, MODEL_NAMES, isModelName, type ModelName } from './forecast/models';
export { BandedForecaster, MAX_HORIZON_SECONDS, type ForecasterOptions } from './forecast/banded';
export type { Forecast, Forecaster, PointModel } from './forecast/types';
export { detectPeriod } from './forecast/seasonal';
