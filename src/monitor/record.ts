import { Sampler, type SamplerOptions } from './sampler';
import { toTraceSample, type Trace } from './trace';
import type { MetricName, UsageSample } from './types';

/** Options for {@link recordTrace}. */
export interface RecordOptions extends Omit<SamplerOptions, 'onSample'> {
  /** How long to record, seconds (> 0). */
  seconds: number;
  /** Called with each sample as it arrives (e.g. for progress output). */
  onSample?: (sample: UsageSample, index: number) => void;
  /** Free text stored in the trace's `note`. */
  note?: string;
}

/**
 * Records the real machine for `seconds` and returns the trace (first, rate-less sample dropped).
 * Capacity (cores, memory) is taken from the last sample that had it.
 * @throws InvalidMonitorOptionError when `intervalMs` is invalid
 */
export async function recordTrace(options: RecordOptions): Promise<Trace> {
  const { seconds, onSample, note, ...samplerOptions } = options;
  const samples: UsageSample[] = [];
  const sampler = new Sampler({
    ...samplerOptions,
    onSample: (s) => {
      samples.push(s);
      onSample?.(s, samples.length - 1);
    },
  });
  const wanted = Math.max(1, Math.round((seconds * 1000) / sampler.intervalMs));
  await sampler.start();
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (samples.length >= wanted) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  await sampler.stop();
  const capacity: Partial<Record<MetricName, number>> = {};
  for (const s of samples) {
    if (s.cpuCores !== null) capacity.cpu = s.cpuCores;
    if (s.memoryTotalMb !== null) capacity.memoryMb = Math.round(s.memoryTotalMb);
  }
  const trace: Trace = {
    intervalMs: sampler.intervalMs,
    capacity,
    samples: samples.slice(0, wanted).map(toTraceSample),
  };
  if (note !== undefined) trace.note = note;
  return trace;
}
