/** Colours and shared axis settings of the report's charts. */
import type { Band } from '../simulator/metrics';

/** Band → colour (as the simulator's reports always drew them). */
export const BAND_COLOURS: Readonly<Record<Band, string>> = {
  high: '#d62728',
  mid: '#ff9f1c',
  low: '#1f77b4',
};

/** Band → legend label. */
export const BAND_LABELS: Readonly<Record<Band, string>> = {
  high: 'high (8–10)',
  mid: 'mid (4–7)',
  low: 'low (1–3)',
};

const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** A tick step for an axis of `end` seconds: a round duration (1 s … 1 day, then whole days) giving ≤ 8 ticks. */
export function timeStep(end: number): number {
  for (const step of STEPS) if (end / step <= 8) return step;
  return 86400 * Math.ceil(end / 86400 / 8);
}

/** The x axis every time chart shares: seconds since the origin, `0` to `end` rounded up to a tick. */
export function timeAxis(end: number): {
  type: 'value';
  min: number;
  max: number;
  interval: number;
  name: string;
  nameLocation: 'middle';
  nameGap: number;
} {
  const step = timeStep(Math.max(1, end));
  return {
    type: 'value',
    min: 0,
    max: Math.ceil(Math.max(1, end) / step) * step,
    interval: step,
    name: 'time since first request',
    nameLocation: 'middle',
    nameGap: 26,
  };
}
