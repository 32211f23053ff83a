import { readFile } from 'node:fs/promises';
import { TraceFormatError } from './errors';
import { METRIC_NAMES, type MetricName, type UsageSample } from './types';

/** One trace sample: a timestamp and any subset of the metrics. Other fields are ignored. */
export type TraceSample = { t: number } & Partial<Record<MetricName, number>>;

/** A recorded (or synthetic) usage trace, as stored in `trace.json`. */
export interface Trace {
  /** Nominal sampling interval, ms. */
  intervalMs: number;
  /** Samples in time order. */
  samples: TraceSample[];
  /** Capacity at recording time, when known (used to clamp forecasts). */
  capacity?: Partial<Record<MetricName, number>>;
  /** Free text: how the trace was produced. */
  note?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and validates a trace document. `intervalMs` must be a positive number; `samples` a
 * non-empty array of objects with a finite `t` (epoch ms, strictly increasing); each metric present
 * must be a finite number ≥ 0 (or `null`, read as missing). Unknown fields are ignored.
 * @param text - the JSON text
 * @param file - a label for error messages (usually the path)
 * @throws TraceFormatError naming `file`, the field path and the problem
 */
export function parseTrace(text: string, file: string): Trace {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new TraceFormatError(
      file,
      '',
      `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (!isRecord(doc))
    throw new TraceFormatError(file, '', 'must be a JSON object with intervalMs and samples');
  const { intervalMs, samples } = doc;
  if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new TraceFormatError(
      file,
      'intervalMs',
      `must be a positive number, got ${JSON.stringify(intervalMs)}`,
    );
  }
  if (!Array.isArray(samples)) throw new TraceFormatError(file, 'samples', 'must be an array');
  if (samples.length === 0) throw new TraceFormatError(file, 'samples', 'is empty');
  const out: TraceSample[] = [];
  let lastT = -Infinity;
  samples.forEach((raw: unknown, i) => {
    const at = `samples[${i}]`;
    if (!isRecord(raw)) throw new TraceFormatError(file, at, 'must be an object');
    const t = raw.t;
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new TraceFormatError(
        file,
        `${at}.t`,
        `must be a finite number (epoch ms), got ${JSON.stringify(t)}`,
      );
    }
    if (t <= lastT) throw new TraceFormatError(file, `${at}.t`, `must be later than the previous sample's t`);
    lastT = t;
    const sample: TraceSample = { t };
    for (const m of METRIC_NAMES) {
      const v = raw[m];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new TraceFormatError(
          file,
          `${at}.${m}`,
          `must be a finite number >= 0, got ${JSON.stringify(v)}`,
        );
      }
      sample[m] = v;
    }
    out.push(sample);
  });
  const trace: Trace = { intervalMs, samples: out };
  if (isRecord(doc.capacity)) {
    const capacity: Partial<Record<MetricName, number>> = {};
    for (const m of METRIC_NAMES) {
      const v = doc.capacity[m];
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) capacity[m] = v;
    }
    trace.capacity = capacity;
  }
  if (typeof doc.note === 'string') trace.note = doc.note;
  return trace;
}

/**
 * Reads and parses a trace file.
 * @throws TraceFormatError when the file cannot be read or is not a valid trace (message names the file)
 */
export async function readTraceFile(file: string): Promise<Trace> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TraceFormatError(file, '', `cannot read (${err instanceof Error ? err.message : String(err)})`);
  }
  return parseTrace(text, file);
}

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/**
 * Converts a sampler sample into a compact trace sample: cpu to 0.001 core, memory to 1 MiB, disk to
 * 0.01 MiB/s, network to 0.001 Mbit/s; `null` metrics are left out.
 */
export function toTraceSample(sample: UsageSample): TraceSample {
  const out: TraceSample = { t: sample.at };
  if (sample.cpu !== null) out.cpu = round(sample.cpu, 3);
  if (sample.memoryMb !== null) out.memoryMb = round(sample.memoryMb, 0);
  if (sample.diskIoMBps !== null) out.diskIoMBps = round(sample.diskIoMBps, 2);
  if (sample.netMbps !== null) out.netMbps = round(sample.netMbps, 3);
  return out;
}

/**
 * Serialises a trace compactly: one sample per line, so files stay small and diffs readable.
 */
export function serializeTrace(trace: Trace): string {
  const { samples, ...head } = trace;
  const headJson = JSON.stringify(head).slice(1, -1);
  const lines = samples.map((s) => `    ${JSON.stringify(s)}`).join(',\n');
  return `{${headJson},\n  "samples": [\n${lines}\n  ]\n}\n`;
}

/** The metrics that appear in at least one sample of `trace`, in {@link METRIC_NAMES} order. */
export function traceMetrics(trace: Trace): MetricName[] {
  return METRIC_NAMES.filter((m) => trace.samples.some((s) => s[m] !== undefined));
}
